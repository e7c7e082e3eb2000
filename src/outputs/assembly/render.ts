/** A record of a chain as an assembled document sees it: where it stands and, when done, its output. */
export interface AssemblyEntry {
  id: string;
  position: number;
  status: string;
  /** The validated output; undefined when the record is not done. */
  output?: unknown;
}

export interface MarkdownOptions {
  /** Dot path of each output's text; without it a string output is its own text. */
  field?: string;
  separator: string;
}

/**
 * Markdown of one chain: each done record's text in position order, separated by `separator`. A
 * record that is not done leaves a visible mark in its place (a quoted line naming it and its
 * status) and the records after it still appear, so a reader sees both how far the chain got and
 * exactly what is missing.
 */
export function renderMarkdown(entries: readonly AssemblyEntry[], options: MarkdownOptions): string {
  const parts = entries.map((entry) =>
    entry.status === 'done' ? textOf(entry.output, options.field) : gapMark(entry),
  );
  return `${parts.join(options.separator).trimEnd()}\n`;
}

/** JSON Lines of one chain: one line per record in position order, `output` null where it is not done. */
export function renderJsonl(entries: readonly AssemblyEntry[]): string {
  return entries
    .map((entry) =>
      JSON.stringify({
        id: entry.id,
        position: entry.position,
        status: entry.status,
        output: entry.status === 'done' ? (entry.output ?? null) : null,
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function gapMark(entry: AssemblyEntry): string {
  const why = entry.status === 'dead' ? 'failed (a dead letter)' : `is not done yet (${entry.status})`;
  return `> **wavebatch: missing** record \`${entry.id}\` (position ${entry.position}) ${why}.`;
}

function textOf(output: unknown, field: string | undefined): string {
  const value = field === undefined ? output : pick(output, field);
  if (typeof value === 'string') return value;
  if (value === undefined || value === null)
    return field === undefined ? '' : `> **wavebatch: missing** the output has no \`${field}\`.`;
  return `\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;
}

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
