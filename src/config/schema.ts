import { z } from 'zod';
import type { WorkloadRecord } from '../workload/record.js';
import { parseDuration } from './duration.js';

/** Extensions a directory source takes as pages when the config names none. */
export const DEFAULT_PAGE_EXTENSIONS = ['.txt', '.md', '.png', '.jpg', '.jpeg', '.webp', '.pdf', '.heic', '.heif'];

const JOB_NAME = /^[a-z0-9-]+$/;
/** Variables a directory source sets on every page besides the level names. */
const RESERVED_VARS = ['page', 'file'];
const DURATION_HINT = 'a number of milliseconds or a duration like "250ms", "30s", "5m", "1h"';

function wholeNumber(min: number) {
  const error = `expected a whole number >= ${min}`;
  return z.int({ error }).min(min, { error });
}

function text(what = 'a non-empty string') {
  return z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
}

function callable<T>() {
  return z.custom<T>((value) => typeof value === 'function', { error: 'expected a function' });
}

const duration = z
  .union([z.number(), z.string()], { error: `expected ${DURATION_HINT}` })
  .transform((value, context) => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 1) {
      context.addIssue({ code: 'custom', message: `expected ${DURATION_HINT} (at least 1 ms), got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return Math.round(ms);
  });

const levelFilter = z.union(
  [
    z.array(z.union([z.string(), z.number()]), { error: 'expected a list of values' }).min(1, { error: 'expected at least one value' }),
    z
      .strictObject({ min: z.number({ error: 'expected a number' }).optional(), max: z.number({ error: 'expected a number' }).optional() })
      .refine((range) => range.min !== undefined || range.max !== undefined, { error: 'a range needs min, max or both' }),
  ],
  { error: 'expected a list of values or a range { min, max }' },
);

const directorySource = z
  .strictObject({
    type: z.literal('directory'),
    path: text('a folder path').describe('root folder of the dataset, relative to the config file'),
    levels: z
      .array(text('a level name'))
      .min(1, { error: 'expected at least one level name' })
      .optional()
      .describe('names of the folder levels (e.g. [state, school, year]); each leaf folder at that depth is a chain'),
    allow_list: text('a file path').optional().describe('file listing the leaf folders to include, one per line (# comments allowed)'),
    filters: z
      .record(z.string(), levelFilter)
      .optional()
      .describe('per level name: a list of accepted values, or a numeric range { min, max }'),
    extensions: z
      .array(text('a file extension'))
      .min(1, { error: 'expected at least one extension' })
      .default(DEFAULT_PAGE_EXTENSIONS)
      .describe('file extensions taken as pages'),
  })
  .superRefine((source, context) => {
    const levels = source.levels ?? [];
    for (const level of Object.keys(source.filters ?? {})) {
      if (!levels.includes(level)) {
        const known = levels.length ? `levels are ${levels.join(', ')}` : 'no levels are named (add `levels`)';
        context.addIssue({ code: 'custom', path: ['filters', level], message: `filters an unknown level "${level}": ${known}` });
      }
    }
    levels.forEach((level, index) => {
      if (RESERVED_VARS.includes(level)) context.addIssue({ code: 'custom', path: ['levels', index], message: `"${level}" is taken by the page variables; name the level otherwise` });
      else if (levels.indexOf(level) !== index) context.addIssue({ code: 'custom', path: ['levels', index], message: `level "${level}" is named twice` });
    });
  })
  .describe('a folder tree: each leaf folder is a chain, its files are pages ordered by the last number in their names');

const tableFields = {
  path: text('a file path').describe('the data file, relative to the config file'),
  id_field: text('a field name').default('id').describe('field holding each record id (also its output file path)'),
  chain_field: text('a field name').optional().describe('field grouping records into chains; without it every record stands alone'),
  position_field: text('a field name').optional().describe('numeric field ordering a chain; without it, order of appearance'),
  media_field: text('a field name').optional().describe("field holding a media file path (or a list of them), relative to the data file's folder"),
};

const tableSource = (type: 'jsonl' | 'json' | 'csv', doc: string) => z.strictObject({ type: z.literal(type), ...tableFields }).describe(doc);

const functionSource = z
  .strictObject({
    type: z.literal('function'),
    records: callable<() => AsyncIterable<WorkloadRecord>>().describe('yields the records (TypeScript / JavaScript configs only)'),
  })
  .describe('records from a function (TypeScript / JavaScript configs only)');

export const sourceSchema = z.discriminatedUnion('type', [
  directorySource,
  tableSource('jsonl', 'one JSON object per line, streamed'),
  tableSource('json', 'a top-level JSON array, read whole: prefer jsonl for large inputs'),
  tableSource('csv', 'CSV with a header row, streamed'),
  functionSource,
]);

/** Marks an object that is a zod schema (any zod 4 instance), so a TS config may give one as response schema. */
function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

const responseSchema = z.custom<object>(
  (value) => isZodSchema(value) || (typeof value === 'object' && value !== null && !Array.isArray(value)),
  { error: 'expected a JSON Schema object (or, in a TypeScript config, a zod schema)' },
);

const promptSchema = z.strictObject({
  dir: text('a folder path').default('prompts').describe('prompt templates folder: <dir>/<name>/<version>.jinja (+ optional system.jinja)'),
  name: text().describe('template name: a sub-folder of dir'),
  version: text().describe('template version: <version>.jinja in that sub-folder; recorded with every output'),
});

const modelSchema = z
  .strictObject({
    name: text('a model name').describe('Gemini model, e.g. gemini-2.5-flash'),
    generation_config: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).default({}).describe('passed to Gemini as generationConfig'),
    response_schema_file: text('a file path').optional().describe('JSON Schema file: sent as the response schema and used to validate outputs'),
    response_schema: responseSchema.optional().describe('inline JSON Schema (or a zod schema in a TypeScript config)'),
  })
  .refine((model) => !(model.response_schema_file && model.response_schema), {
    error: 'give response_schema_file or response_schema, not both',
  });

const executionSchema = z.strictObject({
  max_retries: wholeNumber(0).default(3).describe('attempts after the first, per record, before it is dead-lettered'),
  max_concurrent_jobs: wholeNumber(1).default(10).describe('batch jobs in flight at once'),
  max_requests_per_job: wholeNumber(1).default(1000).describe('requests packed into one batch job'),
  max_job_bytes: wholeNumber(1).default(100_000_000).describe('size cap of an uploaded JSONL job file, in bytes'),
  inline_max_bytes: wholeNumber(0).default(10_000_000).describe('jobs up to this size are sent inline rather than uploaded'),
  enqueued_token_budget: wholeNumber(1).default(5_000_000).describe('estimated input tokens allowed in queued jobs at once'),
  poll_interval: duration.default(30_000).describe('time between job status polls: ms, or "250ms" / "30s" / "5m" / "1h"'),
});

const hooksSchema = z.strictObject({
  extractContext: callable<(predecessorOutput: unknown) => unknown>()
    .optional()
    .describe("picks what of the predecessor's output the prompt receives as `context`"),
  source: callable<() => AsyncIterable<WorkloadRecord>>().optional().describe('yields the records, instead of `source`'),
});

/** The one schema of a workload config (YAML or TypeScript), with its defaults and docs. */
export const configSchema = z
  .strictObject({
    name: z
      .string({ error: 'expected a name of lower-case letters, digits and dashes' })
      .regex(JOB_NAME, { error: 'expected a name of lower-case letters, digits and dashes' })
      .describe('workload name: prefixes batch job names'),
    data_dir: text('a folder path').default('.wavebatch').describe('state store (SQLite) and scratch files, relative to the config file'),
    outputs: text('a folder path').default('out').describe('one JSON file per record, <outputs>/<id>.json; relative to the config file'),
    source: sourceSchema.optional().describe('where the records come from'),
    prompt: promptSchema.describe('the versioned prompt template'),
    context: z
      .strictObject({ field: text('a dot path').optional().describe("dot path into the predecessor's output") })
      .optional()
      .describe("what of the predecessor's output the prompt receives as `context` (default: all of it)"),
    model: modelSchema.describe('the model and its output schema'),
    execution: executionSchema.prefault({}).describe('retries, packing limits and polling'),
    api: z
      .strictObject({ base_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional().describe('API root, e.g. a `wavebatch emulator`') })
      .prefault({})
      .describe('where the Gemini API is; the key comes from GEMINI_API_KEY or GOOGLE_API_KEY'),
    hooks: hooksSchema.optional().describe('TypeScript / JavaScript configs only'),
  })
  // Runs even when other keys have problems (`when`), so a missing source is reported with them.
  .refine((config: unknown) => typeof config !== 'object' || config === null || hasKey(config, 'source') || hasKey((config as { hooks?: unknown }).hooks, 'source'), {
    path: ['source'],
    error: 'required: where the records come from (type: directory, jsonl, json or csv)',
    when: () => true,
  })
  .refine((config) => !(config.source && config.hooks?.source), { path: ['hooks', 'source'], error: 'give source or hooks.source, not both' });

function hasKey(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[key] !== undefined;
}

/** What a config file (YAML or `defineWorkload`) may contain. */
export type WorkloadDefinition = z.input<typeof configSchema>;
/** A config after validation and defaults, before paths are resolved. */
export type ParsedConfig = z.output<typeof configSchema>;
export { isZodSchema };
