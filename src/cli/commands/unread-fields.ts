import type { LoadedConfig } from '../../config/index.js';
import type { PromptTemplate } from '../../prompts/index.js';
import { openSource } from '../../workload/index.js';

/** What every record offers its prompt besides its source fields (the runner's `recordFields`). */
const ALWAYS_PRESENT = ['id', 'chain', 'position'];

/**
 * The fields the prompt reads off `record` that the source's first record does not have, said as a
 * warning: nunjucks renders a missing field as empty text, so a CSV without the column a template
 * prints sent every record with a blank where its text belongs, billed and "done". Null when the
 * first record has them all, or the source cannot be read here (a run names that error itself).
 * A source that is code (`source.type: function`, `hooks.source`) is not asked: its generator is the
 * user's own code (a database query, an API walk) and would run one extra time for a warning.
 */
export async function unreadFieldsWarning(
  config: LoadedConfig,
  prompt: PromptTemplate,
): Promise<string | null> {
  if (prompt.recordFields.size === 0) return null;
  if (config.hooks?.source || config.source.type === 'function') return null;
  let first;
  try {
    for await (const record of openSource(config)) {
      first = record;
      break;
    }
  } catch {
    return null;
  }
  if (!first) return null;
  const present = new Set([...Object.keys(first.vars), ...ALWAYS_PRESENT]);
  const missing = [...prompt.recordFields].filter((field) => !present.has(field));
  if (missing.length === 0) return null;
  const names = missing.map((field) => `record.${field}`).join(', ');
  const where = first.origin ? `${first.id}, ${first.origin}` : first.id;
  return (
    `prompt ${prompt.name}/${prompt.version} reads ${names}, which the source's first record (${where}) does not have: ` +
    `it renders as empty text. Its fields are ${[...Object.keys(first.vars)].join(', ') || 'none'}; ` +
    'fix the source (a column, a key) or the template.'
  );
}
