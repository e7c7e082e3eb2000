import nunjucks from 'nunjucks';
import { dropTrailingNewline } from './environment.js';

/** A name a template reads that it never binds itself, where it first reads it. */
export interface FreeName {
  name: string;
  /** The template file that reads it. */
  path: string;
  /** 1-based. */
  line: number;
}

/** Names every template has without being given them: nunjucks' own, loop and macro locals, our globals. */
const BUILT_IN = new Set([
  'range',
  'cycler',
  'joiner',
  'loop',
  'caller',
  'super',
  'varargs',
  'kwargs',
  'True',
  'False',
  'None',
]);

interface Node {
  typename?: string;
  value?: unknown;
  lineno?: number;
  children?: Node[];
  key?: Node;
  name?: Node;
  args?: Node;
  targets?: Node[];
  target?: Node;
  names?: Node;
}
interface ParsedTemplate {
  findAll(type: unknown): Node[];
}
const { parser, nodes } = nunjucks as unknown as {
  parser: { parse(src: string, extensions: unknown[], options: object): ParsedTemplate };
  nodes: Record<'Symbol' | 'For' | 'Set' | 'Macro' | 'Import' | 'FromImport', unknown>;
};

/**
 * The names `source` reads that it binds nowhere (set, for, macro, import) and that nunjucks or the
 * prompt environment does not provide: what the template expects its caller to pass, each with the
 * line it is first read on. None when the source does not parse (compiling it says why).
 */
export function freeNames(source: string, path: string): FreeName[] {
  let tree: ParsedTemplate;
  try {
    tree = parser.parse(dropTrailingNewline(source), [], {});
  } catch {
    return [];
  }
  const bound = new Set<string>(BUILT_IN);
  const bind = (node: Node | undefined): void => {
    if (!node) return;
    if (node.typename === 'Symbol' && typeof node.value === 'string') bound.add(node.value);
    // A macro's keyword argument (q=1) and an import's alias (g as h) carry the name as a key or value.
    if (node.typename === 'Pair') {
      bind(node.key);
      bind(node.value as Node);
    }
    for (const child of node.children ?? []) bind(child);
  };
  for (const node of tree.findAll(nodes.For)) bind(node.name);
  for (const node of tree.findAll(nodes.Set)) for (const target of node.targets ?? []) bind(target);
  for (const node of tree.findAll(nodes.Macro)) {
    bind(node.name);
    bind(node.args);
  }
  for (const node of tree.findAll(nodes.Import)) bind(node.target);
  for (const node of tree.findAll(nodes.FromImport)) bind(node.names);
  const free = new Map<string, FreeName>();
  for (const node of tree.findAll(nodes.Symbol)) {
    const name = node.value;
    if (typeof name !== 'string' || bound.has(name) || free.has(name)) continue;
    free.set(name, { name, path, line: (node.lineno ?? 0) + 1 });
  }
  return [...free.values()];
}
