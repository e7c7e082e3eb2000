import { Document, isScalar, isSeq, visit } from 'yaml';

/**
 * A config as `wavebatch.yaml` text: the yaml-language-server schema line, comment lines, then the
 * keys in the order given, short lists of scalars inline (`levels: [state, school, year]`).
 */
export function renderConfigYaml(
  config: Record<string, unknown>,
  options: { schemaRef?: string; comments?: readonly string[] } = {},
): string {
  const document = new Document(config);
  visit(document, {
    Seq(_, node) {
      if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  const header = [
    ...(options.schemaRef ? [`yaml-language-server: $schema=${options.schemaRef}`] : []),
    ...(options.comments ?? []),
  ];
  if (header.length > 0) document.commentBefore = header.map((line) => ` ${line}`).join('\n');
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}
