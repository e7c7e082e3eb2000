// A seeded batch results JSONL, shaped like the files the Batch API returns, with a known mix of outcomes.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { randomInteger, seededRandom } from '../src/emulator/seeded-random.js';

/** The response schema of the generated answers: one page of a course catalog. */
export const CATALOG_PAGE_SCHEMA = {
  type: 'object',
  properties: {
    page: { type: 'integer', minimum: 1 },
    courses: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          code: { type: 'string', pattern: '^[A-Z]{2,5} [0-9]{3}$' },
          title: { type: 'string', minLength: 1 },
          credits: { type: 'number', minimum: 0, maximum: 12 },
          description: { type: 'string' },
        },
        required: ['code', 'title', 'credits'],
        additionalProperties: false,
      },
    },
    carry_over: { type: 'string' },
  },
  required: ['page', 'courses', 'carry_over'],
  additionalProperties: false,
} as const;

/** How many lines of each kind the file holds; what classification should find. */
export interface ResultsMix {
  lines: number;
  bytes: number;
  ok: number;
  apiError: number;
  maxTokens: number;
  invalidJson: number;
  schemaMismatch: number;
  malformed: number;
}

const SUBJECTS = ['LAT', 'GRK', 'MATH', 'HIST', 'PHIL', 'CHEM', 'ENG', 'ECON'];
const WORDS =
  'the study of ancient texts with readings in prose and verse lectures recitations and written exercises'.split(
    ' ',
  );

/** Writes `lines` result lines to `path` (seeded: the same file every time) and returns the mix written. */
export async function writeResultsFile(path: string, lines: number, seed: number): Promise<ResultsMix> {
  const random = seededRandom(seed, 'bench');
  const mix: ResultsMix = {
    lines,
    bytes: 0,
    ok: 0,
    apiError: 0,
    maxTokens: 0,
    invalidJson: 0,
    schemaMismatch: 0,
    malformed: 0,
  };
  const out = createWriteStream(path);
  for (let index = 0; index < lines; index++) {
    const line = `${resultLine(index, random, mix)}\n`;
    mix.bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return mix;
}

/** Roughly 1 in 100 lines is each kind of failure; the rest are valid answers. */
function resultLine(index: number, random: () => number, mix: ResultsMix): string {
  const key = `ST/school${Math.floor(index / 20) + 1}/1900/page_${(index % 20) + 1}`;
  const roll = random();
  const answer = pageAnswer(index, random);
  if (roll < 0.01) {
    mix.apiError++;
    return JSON.stringify({
      key,
      error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' },
    });
  }
  if (roll < 0.02) {
    mix.malformed++;
    return `{"key":${JSON.stringify(key)},"response":{"candidates":[{"content":`;
  }
  if (roll < 0.03) {
    mix.maxTokens++;
    return JSON.stringify({ key, response: response(JSON.stringify(answer).slice(0, 200), 'MAX_TOKENS') });
  }
  if (roll < 0.04) {
    mix.invalidJson++;
    return JSON.stringify({ key, response: response(`${JSON.stringify(answer).slice(0, -1)},}`, 'STOP') });
  }
  if (roll < 0.05) {
    mix.schemaMismatch++;
    return JSON.stringify({ key, response: response(JSON.stringify({ ...answer, page: 'one' }), 'STOP') });
  }
  mix.ok++;
  return JSON.stringify({ key, response: response(JSON.stringify(answer), 'STOP') });
}

function pageAnswer(
  index: number,
  random: () => number,
): { page: number; courses: object[]; carry_over: string } {
  const courses = [];
  for (let course = randomInteger(random, 2, 6); course > 0; course--) {
    courses.push({
      code: `${SUBJECTS[randomInteger(random, 0, SUBJECTS.length - 1)]} ${randomInteger(random, 100, 499)}`,
      title: words(random, 3),
      credits: randomInteger(random, 1, 4),
      description: words(random, randomInteger(random, 8, 20)),
    });
  }
  return { page: (index % 20) + 1, courses, carry_over: words(random, 6) };
}

function response(text: string, finishReason: string): object {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason, index: 0 }],
    usageMetadata: {
      promptTokenCount: 412,
      candidatesTokenCount: Math.ceil(text.length / 4),
      totalTokenCount: 412 + Math.ceil(text.length / 4),
    },
    modelVersion: 'gemini-2.5-flash',
  };
}

function words(random: () => number, count: number): string {
  const picked: string[] = [];
  for (let index = 0; index < count; index++)
    picked.push(WORDS[randomInteger(random, 0, WORDS.length - 1)] as string);
  return picked.join(' ');
}
