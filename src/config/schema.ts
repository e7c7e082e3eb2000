import { z } from 'zod';
import type { SourceRecord } from '../workload/record.js';
import { urlHasCredentials } from '../secrets/redact.js';
import {
  callable,
  duration,
  durationAtMost,
  durationOrZero,
  isZodSchema,
  text,
  wholeNumber,
} from './schema-parts.js';
import { parseDuration } from './duration.js';
import { generationConfig } from './generation-config.js';
import { limitsSchema, pricingSchema } from './pricing-schema.js';
import { sourceSchema } from './source-schema.js';
import { DEFAULT_SHARD_BYTES } from '../outputs/jsonl-sink.js';

const JOB_NAME = /^[a-z0-9-]+$/;

/** The Files API's cap on one file: an uploaded job input above it is refused. */
const MAX_JOB_FILE_BYTES = 2 * 1024 ** 3;
/** Google's cap on a batch's inline requests ("≤20 MB" in all); the create call's JSON wraps them too. */
const MAX_INLINE_JOB_BYTES = 20_000_000;

/** Refused, not redacted: a URL with a password would be printed, logged and stored in many places. */
const CREDENTIALS_IN_URL =
  'must not hold credentials (user:password@, or a key= / token= query): the API key comes only from GEMINI_API_KEY or GOOGLE_API_KEY';

const responseSchema = z.custom<object>(
  (value) => isZodSchema(value) || (typeof value === 'object' && value !== null && !Array.isArray(value)),
  { error: 'expected a JSON Schema object (or, in a TypeScript config, a zod schema)' },
);

const promptSchema = z.strictObject({
  dir: text('a folder path')
    .default('prompts')
    .describe('prompt templates folder: <dir>/<name>/<version>.jinja (+ optional system.jinja)'),
  name: text().describe('template name: a sub-folder of dir'),
  version: text().describe(
    'template version: <version>.jinja in that sub-folder; recorded with every output',
  ),
});

const modelSchema = z
  .strictObject({
    name: text('a model name').describe('Gemini model, e.g. gemini-2.5-flash'),
    generation_config: generationConfig.default({}).describe('passed to Gemini as generationConfig'),
    response_schema_file: text('a file path')
      .optional()
      .describe('JSON Schema file: sent as the response schema and used to validate outputs'),
    response_schema: responseSchema
      .optional()
      .describe('inline JSON Schema (or a zod schema in a TypeScript config)'),
  })
  .refine((model) => !(model.response_schema_file && model.response_schema), {
    error: 'give response_schema_file or response_schema, not both',
  });

/** `execution.deadline`: a duration from the run's start, or an ISO 8601 time. */
const deadline = z
  .union([z.number(), z.string()], {
    error:
      'expected a duration from the run start ("6h", "90m", "7d") or an ISO time ("2026-05-01T09:00:00Z")',
  })
  .transform((value, context): { afterMs: number } | { at: number } => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms !== undefined && Number.isFinite(ms) && ms >= 1) return { afterMs: Math.round(ms) };
    // Only a full date-time (with a zone, or read as UTC by Date.parse) counts: "6" is not a deadline.
    const at = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
    if (Number.isFinite(at)) return { at };
    context.addIssue({
      code: 'custom',
      message:
        'expected a duration from the run start ("6h", "90m", "7d") or an ISO time ("2026-05-01T09:00:00Z")',
    });
    return z.NEVER;
  });

/** Google's cap on a project's batch jobs queued or running at once, the same in every usage tier (rate-limits page). */
const GOOGLE_CONCURRENT_BATCH_JOBS = 100;
/** `execution.sync_concurrency` at most: generous, as Google caps requests per minute, not in flight. */
const SYNC_CONCURRENCY_MAX = 10_000;
/** `execution.give_up_after` at most: 7 days. */
const GIVE_UP_AFTER_MAX_MS = 7 * 86_400_000;

const executionSchema = z
  .strictObject({
    max_retries: wholeNumber(0)
      .default(3)
      .describe('attempts after the first, per record, before it is dead-lettered'),
    // Above Google's cap (checked with limits: below) a job past it would only wait for a slot.
    max_concurrent_jobs: wholeNumber(1)
      .default(10)
      .describe(
        `batch jobs in flight at once; at most ${GOOGLE_CONCURRENT_BATCH_JOBS} (Google's cap in every usage tier), or limits.batch_concurrent_jobs when set`,
      ),
    max_requests_per_job: wholeNumber(1).default(1000).describe('requests packed into one batch job'),
    records_per_request: wholeNumber(1)
      .max(100, { error: 'expected a whole number from 1 to 100' })
      .default(1)
      .describe(
        'records rendered into one request (the prompt gets `records`; the answer is an object keyed by record id, split and validated per record); ' +
          'cuts cost where the instructions dwarf each item. Batch jobs send groups; synchronous lanes send each record as a group of one',
      ),
    // Google's own caps: a larger file or create call is refused (400) and every record of the job
    // counts a failed attempt, so a value past them would dead-letter records instead of sending them.
    max_job_bytes: wholeNumber(1)
      .max(MAX_JOB_FILE_BYTES, {
        error: `expected a whole number from 1 to ${MAX_JOB_FILE_BYTES} (the Files API's 2 GB per file)`,
      })
      .default(100_000_000)
      .describe(
        'size cap of an uploaded JSONL job file, in bytes; at most 2 GB (the Files API refuses larger files)',
      ),
    inline_max_bytes: wholeNumber(0)
      .max(MAX_INLINE_JOB_BYTES, {
        error: `expected a whole number from 0 to ${MAX_INLINE_JOB_BYTES} (Google refuses an inline batch over 20 MB)`,
      })
      .default(10_000_000)
      .describe(
        'jobs up to this size are sent inline rather than uploaded; at most 20 MB (Google refuses larger inline batches)',
      ),
    media_upload_bytes: wholeNumber(0)
      .default(4_000_000)
      .describe(
        'media files (images, PDFs, audio, video) of at least this many bytes are uploaded once to the Files API ' +
          'and referenced by URI; smaller ones are sent inline as base64 (0 = upload all)',
      ),
    enqueued_token_budget: wholeNumber(1)
      .default(5_000_000)
      .describe(
        "estimated input tokens allowed in queued jobs at once; a run uses at most the usage tier's " +
          'batch_enqueued_tokens for the model (limits:)',
      ),
    redo_stale: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .describe(
        'every run queues again the records whose output was made by another prompt version, model or input (like `run --redo stale`)',
      ),
    // The runner sleeps this long between polls. A day is far past any useful interval (a batch job
    // expires 48 h after it is made), so a longer one is a slip of the unit (30d for 30s) that would
    // leave a run asleep for weeks: refused here rather than waited out.
    poll_interval: durationAtMost(86_400_000, '24h (a batch job expires 48 h after it is made)')
      .default(30_000)
      .describe('time between job status polls: ms, or "250ms" / "30s" / "5m" / "1h"; at most 24h'),
    // A run that has had no answer for a week is not waiting for an outage to end: its batch jobs
    // expired days ago (48 h). A longer value is a slip of the unit (400d for 400s).
    give_up_after: durationAtMost(GIVE_UP_AFTER_MAX_MS, '7d (a batch job expires 48 h after it is made)')
      .default(900_000)
      .describe(
        'a run stops (exit 1) once the API has given no answer at all (connection refused, DNS, timeouts) for this long; ' +
          'server errors and quota waits never stop it',
      ),
    stall_factor: z
      .number({ error: 'expected a number >= 1' })
      .min(1, { error: 'expected a number >= 1' })
      .default(4)
      .describe(
        "a PENDING or RUNNING batch job is stalled once older than this many times the median turnaround of the workload's recent jobs (a job still out counts as lasting at least its age)",
      ),
    stall_min_age: duration
      .default(3_600_000)
      .describe(
        'a job is never stalled before this age; before 3 jobs have finished, a job is stalled after 24 h',
      ),
    stall_action: z
      .enum(['wait', 'cancel', 'split'], { error: 'expected wait, cancel or split' })
      .optional()
      .describe(
        'what happens to a stalled job besides being reported: wait for it, or cancel it (only while nothing of it was processed) and resubmit its records (split: as two jobs of half the size); ' +
          'in mode auto they are resubmitted on a synchronous lane (hedged). Default: cancel in mode auto, wait otherwise',
      ),
    mode: z
      .enum(['batch', 'flex', 'realtime', 'auto'], { error: 'expected batch, flex, realtime or auto' })
      .default('batch')
      .describe(
        'which lane records go to: batch (Batch API jobs, half price, hours), flex (synchronous Flex tier, half price, minutes, may be shed), ' +
          'realtime (synchronous standard tier, full price, seconds), auto (per record, by chain depth, deadline and max_cost)',
      ),
    // Google sets no cap on requests in flight, only per minute (at most 30,000 RPM in any tier);
    // each one held here keeps its rendered request (inline media up to 4 MB) and a connection, so
    // 100000 would exhaust memory and sockets long before the API said no.
    sync_concurrency: wholeNumber(1)
      .max(SYNC_CONCURRENCY_MAX, {
        error: `expected a whole number from 1 to ${SYNC_CONCURRENCY_MAX} (each request in flight holds its request and a connection)`,
      })
      .default(32)
      .describe(
        `synchronous requests (flex, standard, priority) in flight at once, all lanes together; at most ${SYNC_CONCURRENCY_MAX}`,
      ),
    // No default here: the default depends on the lanes in the air at the stop (see stopGraceMs).
    stop_grace: durationOrZero
      .optional()
      .describe(
        'how long a stopped run (Ctrl-C, SIGTERM) waits for the synchronous requests in the air and applies their answers (Google bills them anyway); ' +
          "0 abandons them at once. Default: their lanes' request timeout, at most 60s",
      ),
    deadline: deadline
      .optional()
      .describe(
        'when every record should be done: a duration from the run start ("6h") or an ISO time; auto pays for faster lanes only to meet it',
      ),
    max_cost: z
      .number({ error: 'expected a number of US dollars > 0' })
      .positive({ error: 'expected a number of US dollars > 0' })
      .optional()
      .describe(
        'USD cap on what one run sends (estimated before sending): work that would cross it is held, never sent',
      ),
  })
  // In auto a stalled job's records have a faster lane to go to, so hedging them is the default.
  .transform((execution) => ({
    ...execution,
    stall_action: execution.stall_action ?? (execution.mode === 'auto' ? 'cancel' : 'wait'),
  }));

const assembleSchema = z
  .strictObject({
    by: z
      .literal('chain', { error: 'expected chain' })
      .default('chain')
      .describe('what one document holds: the records of one chain'),
    order: z
      .literal('position', { error: 'expected position' })
      .default('position')
      .describe("the records' order in the document: their position in the chain"),
    format: z
      .enum(['markdown', 'jsonl'], { error: 'expected markdown or jsonl' })
      .default('markdown')
      .describe(
        'markdown: <path>/<chain>.md, one section of text per record; ' +
          'jsonl: <path>/<chain>.jsonl, one line {id, position, status, output} per record',
      ),
    path: text('a folder path')
      .default('assembled')
      .describe('folder of the assembled documents, relative to the config file; outside the output folder'),
    field: text('a dot path')
      .optional()
      .describe(
        'markdown: dot path into each output naming its text (e.g. text or chapter.body); default: a string output as it is, anything else as a JSON block',
      ),
    separator: z
      .string({ error: 'expected a string' })
      .default('\n\n')
      .describe("markdown: written between two records' texts"),
  })
  .describe('assembled documents: outputs of a chain in order');

const outputsSchema = z.union(
  [
    text('a folder path'),
    z.strictObject({
      sink: z
        .enum(['files', 'jsonl'], { error: 'expected files or jsonl' })
        .default('files')
        .describe(
          'files: one JSON file per record, <path>/<id>.json; jsonl: append-only JSON Lines shards ' +
            '<path>/part-NNNNNN.jsonl with a manifest.json (for large workloads)',
        ),
      path: text('a folder path').default('out').describe('the output folder'),
      shard_bytes: wholeNumber(1)
        .default(DEFAULT_SHARD_BYTES)
        .describe('jsonl: a shard is closed and the next one started once it holds this many bytes'),
      assemble: assembleSchema
        .optional()
        .describe(
          "one document per chain, its records' outputs in position order, rebuilt as records complete",
        ),
    }),
  ],
  { error: 'expected a folder path, or a mapping with sink, path, shard_bytes and assemble' },
);

const hooksSchema = z.strictObject({
  extractContext: callable<(predecessorOutput: unknown) => unknown>()
    .optional()
    .describe("picks what of the predecessor's output the prompt receives as `context`"),
  source: callable<() => AsyncIterable<SourceRecord>>()
    .optional()
    .describe('yields the records, instead of `source`'),
});

/** The one schema of a workload config (YAML or TypeScript), with its defaults and docs. */
export const configSchema = z
  .strictObject({
    name: z
      .string({ error: 'expected a name of lower-case letters, digits and dashes' })
      .regex(JOB_NAME, { error: 'expected a name of lower-case letters, digits and dashes' })
      .describe('workload name: prefixes batch job names'),
    data_dir: text('a folder path')
      .default('.wavebatch')
      .describe('state store (SQLite) and scratch files, relative to the config file'),
    outputs: outputsSchema
      .default('out')
      .describe(
        'where outputs go: a folder (one JSON file per record, <outputs>/<id>.json), or ' +
          '{ sink, path, shard_bytes }; paths relative to the config file',
      ),
    source: sourceSchema.optional().describe('where the records come from'),
    prompt: promptSchema.describe('the versioned prompt template'),
    context: z
      .strictObject({
        field: text('a dot path').optional().describe("dot path into the predecessor's output"),
      })
      .optional()
      .describe("what of the predecessor's output the prompt receives as `context` (default: all of it)"),
    model: modelSchema.describe('the model and its output schema'),
    execution: executionSchema
      .prefault({})
      .describe('lanes, deadline and cost cap, retries, packing limits and polling'),
    api: z
      .strictObject({
        base_url: z
          .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
          .refine((url) => !urlHasCredentials(url), { error: CREDENTIALS_IN_URL })
          .optional()
          .describe('API root, e.g. a `wavebatch emulator`'),
      })
      .prefault({})
      .describe('where the Gemini API is; the key comes from GEMINI_API_KEY or GOOGLE_API_KEY'),
    pricing: pricingSchema,
    limits: limitsSchema,
    hooks: hooksSchema.optional().describe('TypeScript / JavaScript configs only'),
  })
  // Runs even when other keys have problems (`when`), so a missing source is reported with them.
  .refine(
    (config: unknown) =>
      typeof config !== 'object' ||
      config === null ||
      hasKey(config, 'source') ||
      hasKey((config as { hooks?: unknown }).hooks, 'source'),
    {
      path: ['source'],
      error: 'required: where the records come from (type: directory, jsonl, json or csv)',
      when: () => true,
    },
  )
  .refine((config) => !(config.source && config.hooks?.source), {
    path: ['hooks', 'source'],
    error: 'give source or hooks.source, not both',
  })
  // tierCappedBatchCaps lowered a larger value without a word: 101 ran as 100.
  .superRefine((config, context) => {
    const most = config.limits.batchConcurrentJobs ?? GOOGLE_CONCURRENT_BATCH_JOBS;
    const jobs = config.execution.max_concurrent_jobs;
    if (jobs > most)
      context.addIssue({
        code: 'custom',
        path: ['execution', 'max_concurrent_jobs'],
        input: jobs,
        message:
          config.limits.batchConcurrentJobs === undefined
            ? `expected a whole number from 1 to ${most} (Google's cap on batch jobs queued or running at once, in every usage tier; a project with a higher one sets limits.batch_concurrent_jobs)`
            : `expected a whole number from 1 to ${most} (limits.batch_concurrent_jobs)`,
      });
  });

function hasKey(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[key] !== undefined;
}

/** What a config file (YAML or `defineWorkload`) may contain. */
export type WorkloadDefinition = z.input<typeof configSchema>;
/** A config after validation and defaults, before paths are resolved. */
export type ParsedConfig = z.output<typeof configSchema>;
