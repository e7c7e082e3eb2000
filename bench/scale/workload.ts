// A generated large workload on disk: books of text pages in ONE JSONL source (each book a chain),
// a prompt that receives the previous page's carry-over, a response schema, outputs in JSONL shards.
import { createWriteStream } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomInteger, seededRandom } from '../../src/emulator/seeded-random.js';
import { CATALOG_PAGE_SCHEMA } from '../../test/fixtures/catalog-workload.js';

export const PAGES_PER_BOOK = 20;
const SUBJECTS = ['Latin', 'Greek', 'Mathematics', 'History', 'Philosophy', 'Chemistry', 'Rhetoric'];

export interface ScaleWorkload {
  configPath: string;
  records: number;
  /** Bytes of the source file. */
  sourceBytes: number;
}

/** Pages in chains of PAGES_PER_BOOK (each page's prompt needs the previous one's output), or flat: every page on its own. */
export type WorkloadShape = 'chains' | 'flat';

/** Where the records go: Batch API jobs, or one synchronous Flex request each. */
export type WorkloadLane = 'batch' | 'flex';

/**
 * How big records and outputs are. `short`: a page's text of about 100 bytes and the catalog
 * examples' schema (a list of course names and a carry-over: outputs of about 90 bytes).
 * `long-outputs`: six courses of six fields each, outputs of about 1.1 kB (the size the scale issue
 * was measured with). `long-text`: short outputs, but each page's text about 2 kB.
 */
export type SizeProfile = 'short' | 'long-outputs' | 'long-text';

/** Times a page's text is repeated in `long-text` (about 100 bytes each). */
const LONG_TEXT_REPEATS = 20;

/** Six courses with code, title, description, instructor, schedule and credits; the emulator fills each string. */
const LONG_OUTPUT_SCHEMA = {
  type: 'object',
  properties: {
    courses: {
      type: 'array',
      minItems: 6,
      maxItems: 6,
      items: {
        type: 'object',
        properties: Object.fromEntries([
          ...['code', 'title', 'description', 'instructor', 'schedule'].map((name) => [
            name,
            { type: 'string' },
          ]),
          ['credits', { type: 'integer', minimum: 1, maximum: 6 }],
        ]),
        required: ['code', 'title', 'description', 'instructor', 'schedule', 'credits'],
      },
    },
    carry_over: { type: 'string' },
  },
  required: ['courses', 'carry_over'],
};

/** Synchronous requests in flight at once on the Flex lane. */
const FLEX_CONCURRENCY = 32;
/** Flex quotas no run here reaches, so the run is bound by its own work, not by a rate limit. */
const UNREACHED = 1_000_000_000;

/** Writes `records` pages (seeded: the same bytes every run) with prompt, schema and config under `root`. */
export async function writeScaleWorkload(
  root: string,
  records: number,
  sink: 'jsonl' | 'files' = 'jsonl',
  shape: WorkloadShape = 'chains',
  lane: WorkloadLane = 'batch',
  sizes: SizeProfile = 'short',
): Promise<ScaleWorkload> {
  const random = seededRandom(7, 'scale');
  await mkdir(join(root, 'prompts', 'page'), { recursive: true });
  const out = createWriteStream(join(root, 'pages.jsonl'));
  let sourceBytes = 0;
  for (let index = 0; index < records; index++) {
    const book = `b${String(Math.floor(index / PAGES_PER_BOOK)).padStart(6, '0')}`;
    const page = (index % PAGES_PER_BOOK) + 1;
    const courses = Array.from({ length: randomInteger(random, 2, 4) }, () => {
      const subject = SUBJECTS[randomInteger(random, 0, SUBJECTS.length - 1)] as string;
      return `${subject} ${randomInteger(random, 100, 499)}: readings, ${randomInteger(random, 1, 4)} hours.`;
    });
    const line = `${JSON.stringify({ id: `${book}/p${String(page).padStart(3, '0')}`, book, page, text: courses.join(' ').repeat(sizes === 'long-text' ? LONG_TEXT_REPEATS : 1) })}\n`;
    sourceBytes += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  // A minute old: a source changed within seconds is not fingerprinted (see workload/fingerprint.ts).
  const minuteAgo = new Date(Date.now() - 60_000);
  await utimes(join(root, 'pages.jsonl'), minuteAgo, minuteAgo);
  await writeFile(
    join(root, 'prompts', 'page', 'v1.jinja'),
    'List the courses on page {{ record.page }} of {{ record.book }}: {{ record.text }}\n' +
      '{% if context %}The previous page ended with: {{ context }}{% endif %}\n',
  );
  await writeFile(
    join(root, 'schema.json'),
    JSON.stringify(sizes === 'long-outputs' ? LONG_OUTPUT_SCHEMA : CATALOG_PAGE_SCHEMA),
  );
  const yaml = [
    'name: scale',
    'data_dir: state',
    ...(sink === 'jsonl' ? ['outputs:', '  sink: jsonl', '  path: out'] : ['outputs: out']),
    'source:',
    '  type: jsonl',
    '  path: pages.jsonl',
    ...(shape === 'chains' ? ['  chain_field: book'] : []),
    'prompt:',
    '  dir: prompts',
    '  name: page',
    '  version: v1',
    ...(shape === 'chains' ? ['context:', '  field: carry_over'] : []),
    'model:',
    '  name: gemini-2.5-flash',
    '  response_schema_file: schema.json',
    'execution:',
    '  max_retries: 2',
    '  max_concurrent_jobs: 100',
    '  max_requests_per_job: 5000',
    '  max_job_bytes: 100000000',
    '  inline_max_bytes: 0',
    '  enqueued_token_budget: 1000000000',
    '  poll_interval: 20ms',
    ...(lane === 'flex' ? ['  mode: flex', `  sync_concurrency: ${FLEX_CONCURRENCY}`] : []),
    // The runner keeps its budget within the usage tier's enqueued-token limit (Tier 1 2.5 Flash:
    // 3M); the emulator child admits 10G, so the tier here is raised to the budget.
    'limits:',
    '  models:',
    '    gemini-2.5-flash:',
    '      batch_enqueued_tokens: 1000000000',
    ...(lane === 'flex' ? [`      flex: { rpm: ${UNREACHED}, tpm: ${UNREACHED}, rpd: null }`] : []),
  ];
  const configPath = join(root, 'wavebatch.yaml');
  await writeFile(configPath, `${yaml.join('\n')}\n`);
  return { configPath, records, sourceBytes };
}
