import { z } from 'zod';
import type { SourceRecord } from '../workload/record.js';
import { DEFAULT_MAX_LINE_BYTES } from '../jsonl/lines.js';
import { callable, text, wholeNumber } from './schema-parts.js';

/** Extensions a directory source takes as pages when the config names none. */
export const DEFAULT_PAGE_EXTENSIONS = [
  '.txt',
  '.md',
  '.png',
  '.jpg',
  '.jpeg',
  '.webp',
  '.pdf',
  '.heic',
  '.heif',
];

/** The default of source.max_record_bytes: far above what one Gemini request may carry (~20 MB). */
export const DEFAULT_MAX_RECORD_BYTES = DEFAULT_MAX_LINE_BYTES;

/** Variables a directory source sets on every page besides the level names. */
const RESERVED_VARS = ['page', 'file'];

const levelFilter = z.union(
  [
    z
      .array(z.union([z.string(), z.number()]), { error: 'expected a list of values' })
      .min(1, { error: 'expected at least one value' }),
    z
      .strictObject({
        min: z.number({ error: 'expected a number' }).optional(),
        max: z.number({ error: 'expected a number' }).optional(),
      })
      .refine((range) => range.min !== undefined || range.max !== undefined, {
        error: 'a range needs min, max or both',
      })
      // A range with nothing in it selected no folder: the source yielded no record, without a word.
      .refine((range) => range.min === undefined || range.max === undefined || range.min <= range.max, {
        error: (issue) => {
          const { min, max } = issue.input as { min: number; max: number };
          return `min ${min} is above max ${max}: the range holds no value and would select nothing; expected min <= max`;
        },
      }),
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
      .describe(
        'names of the folder levels (e.g. [state, school, year]); each leaf folder at that depth is a chain',
      ),
    allow_list: text('a file path')
      .optional()
      .describe('file listing the leaf folders to include, one per line (# comments allowed)'),
    filters: z
      .record(z.string(), levelFilter)
      .optional()
      .describe('per level name: a list of accepted values, or a numeric range { min, max }'),
    extensions: z
      .array(text('a file extension'))
      .min(1, { error: 'expected at least one extension' })
      .default(DEFAULT_PAGE_EXTENSIONS)
      .describe('file extensions taken as pages'),
    follow_symlinks: z
      .boolean({ error: 'expected true or false' })
      .default(false)
      .describe(
        'follow symbolic links that lead outside the dataset folder (by default such a link stops the sync)',
      ),
  })
  .superRefine((source, context) => {
    const levels = source.levels ?? [];
    for (const level of Object.keys(source.filters ?? {})) {
      if (!levels.includes(level)) {
        const known = levels.length
          ? `levels are ${levels.join(', ')}`
          : 'no levels are named (add `levels`)';
        context.addIssue({
          code: 'custom',
          path: ['filters', level],
          message: `filters an unknown level "${level}": ${known}`,
        });
      }
    }
    levels.forEach((level, index) => {
      if (RESERVED_VARS.includes(level))
        context.addIssue({
          code: 'custom',
          path: ['levels', index],
          message: `"${level}" is taken by the page variables; name the level otherwise`,
        });
      else if (levels.indexOf(level) !== index)
        context.addIssue({
          code: 'custom',
          path: ['levels', index],
          message: `level "${level}" is named twice`,
        });
    });
  })
  .describe(
    'a folder tree: each leaf folder is a chain, its files are pages ordered by the last number in their names',
  );

const tableFields = {
  path: text('a file path').describe('the data file, relative to the config file'),
  id_field: text('a field name')
    .default('id')
    .describe('field holding each record id (also its output file path)'),
  chain_field: text('a field name')
    .optional()
    .describe('field grouping records into chains; without it every record stands alone'),
  position_field: text('a field name')
    .optional()
    .describe('numeric field ordering a chain; without it, order of appearance'),
  media_field: text('a field name')
    .optional()
    .describe("field holding a media file path (or a list of them), relative to the data file's folder"),
  media_root: text('a folder path')
    .optional()
    .describe(
      "folder media paths must stay inside (default: the data file's folder), relative to the config file",
    ),
  max_record_bytes: wholeNumber(1)
    .default(DEFAULT_MAX_RECORD_BYTES)
    .describe('largest JSONL line or CSV row (a JSON array file is read whole: its whole size), in bytes'),
};

const tableSource = (type: 'jsonl' | 'json' | 'csv', doc: string) =>
  z.strictObject({ type: z.literal(type), ...tableFields }).describe(doc);

const functionSource = z
  .strictObject({
    type: z.literal('function'),
    records: callable<() => AsyncIterable<SourceRecord>>().describe(
      'yields the records (TypeScript / JavaScript configs only)',
    ),
  })
  .describe('records from a function (TypeScript / JavaScript configs only)');

export const sourceSchema = z.discriminatedUnion('type', [
  directorySource,
  tableSource('jsonl', 'one JSON object per line, streamed'),
  tableSource('json', 'a top-level JSON array, read whole: prefer jsonl for large inputs'),
  tableSource('csv', 'CSV with a header row, streamed'),
  functionSource,
]);
