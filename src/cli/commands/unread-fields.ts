import type { LoadedConfig } from '../../config/index.js';
import type { PromptTemplate } from '../../prompts/index.js';
import { openSource } from '../../workload/index.js';

/** What every record offers its prompt besides its source fields (the runner's `recordFields`). */
const ALWAYS_PRESENT = ['id', 'chain', 'position'];

/** The names a prompt is given when it renders (see PromptVariables): any other renders as empty text. */
const PROMPT_NAMES = ['record', 'context'];

/** Every warning `config check` and a run's start give about what the prompt reads: unknown names, missing fields. */
export async function promptWarnings(config: LoadedConfig, prompt: PromptTemplate): Promise<string[]> {
  const unread = await unreadFieldsWarning(config, prompt);
  return [...unknownNamesWarnings(config, prompt), ...(unread === null ? [] : [unread])];
}

/**
 * The top-level names the prompt reads that it is never given (`{{ nothere.x }}`, `{{ recrod.text }}`),
 * one warning each naming the file and line: nunjucks renders them as empty text, every record alike.
 * `records` is given only to a grouped prompt (`execution.records_per_request` above 1).
 */
function unknownNamesWarnings(config: LoadedConfig, prompt: PromptTemplate): string[] {
  const given = new Set(PROMPT_NAMES);
  if (config.execution.records_per_request > 1) given.add('records');
  return prompt.freeNames
    .filter((free) => !given.has(free.name))
    .map(
      (free) =>
        `prompt ${prompt.name}/${prompt.version} reads \`${free.name}\` (${free.path} line ${free.line}), which it is never given: ` +
        `it renders as empty text. A prompt is given ${[...given].join(', ')}; fix the template.`,
    );
}

/**
 * The fields the prompt reads off `record` that the source's first record does not have, said as a
 * warning: nunjucks renders a missing field as empty text, so a CSV without the column a template
 * prints sent every record with a blank where its text belongs, billed and "done". Null when the
 * first record has them all, or the source cannot be read here (a run names that error itself).
 * A source that is code (`source.type: function`, `hooks.source`) is not asked: its generator is the
 * user's own code (a database query, an API walk) and would run one extra time for a warning.
 */
async function unreadFieldsWarning(config: LoadedConfig, prompt: PromptTemplate): Promise<string | null> {
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
