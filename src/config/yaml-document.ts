import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';

/** A parsed YAML config: its plain data, and the line of any key path in it. */
export interface YamlConfigDocument {
  data: unknown;
  /** 1-based line of the deepest part of `path` present in the file (the key that names it). */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/** Parses YAML keeping positions; syntax errors become a CONFIG_SYNTAX error naming each line. */
export function parseYamlConfig(text: string, file: string): YamlConfigDocument {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const [first, ...rest] = document.errors.map((error): ConfigIssue => {
    const issue: ConfigIssue = { file, message: syntaxMessage(error.message) };
    const line = error.linePos?.[0].line;
    return line === undefined ? issue : { ...issue, line };
  });
  if (first) throw new ConfigError('CONFIG_SYNTAX', [first, ...rest]);
  let data: unknown;
  try {
    // The alias cap stops "billion laughs" documents from expanding without bound.
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError('CONFIG_SYNTAX', [{ file, message: (error as Error).message }]);
  }
  return { data, lineOf: (path) => lineOf(document, lineCounter, path) };
}

/** The yaml package appends "at line N, column M:" and a code excerpt; keep the sentence and the column. */
function syntaxMessage(message: string): string {
  const [head = message] = message.split('\n');
  const column = /column (\d+)/.exec(head)?.[1];
  const sentence = head.replace(/ at line \d+, column \d+:?$/, '');
  return column ? `${sentence} (column ${column})` : sentence;
}

function lineOf(
  document: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
): number | undefined {
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  let node: unknown = document.contents;
  let line = lineAt(rangeStart(node));
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      if (!pair) return line;
      line = lineAt(rangeStart(pair.key)) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) return line;
      line = lineAt(rangeStart(node)) ?? line;
    } else {
      return line;
    }
  }
  return line;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}
