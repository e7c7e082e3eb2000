// Results parsing: streams a generated batch results JSONL through readResultLines + classifyResult
// (with an Ajv validator for a realistic schema) and compares it with a bare readline pass and a
// readline + JSON.parse pass over the same file. Prints lines/s, MB/s and heap growth vs file size.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { classifyResult, createValidator, readResultLines, type FailureCause } from '../src/results/index.js';
import {
  megabytes,
  megabytesPerSecond,
  microsecondsEach,
  milliseconds,
  perSecond,
  printFigure,
  sizeFromEnv,
  times,
  machineConditions,
} from './figures.js';
import { MemoryPeak, type MemoryGrowth } from './memory-peak.js';
import { CATALOG_PAGE_SCHEMA, writeResultsFile, type ResultsMix } from './results-file.js';

const SEED = 42;

interface Pass {
  ms: number;
  memory: MemoryGrowth;
}

/** Runs the benchmark; BENCH_RESULT_LINES scales the file (default 50,000 lines, about 55 MB). */
export async function benchResultsParse(): Promise<void> {
  const lines = sizeFromEnv('BENCH_RESULT_LINES', 50_000);
  const dir = await mkdtemp(join(tmpdir(), 'wb-bench-results-'));
  try {
    const path = join(dir, 'results.jsonl');
    const mix = await writeResultsFile(path, lines, SEED);
    const validator = createValidator(CATALOG_PAGE_SCHEMA);
    // Warm-up: page cache and JIT, so the first measured pass is not penalised.
    await measure(() => bareReadline(path));

    const bare = await measure(() => bareReadline(path));
    const parsed = await measure(() => readlineWithParse(path));
    const causes = new Map<string, number>();
    const full = await measure(async () => {
      for await (const line of readResultLines(path)) {
        const outcome = classifyResult(line.malformed ? { malformed: true, raw: line.raw } : line, validator);
        const cause: FailureCause | 'ok' = outcome.ok ? 'ok' : outcome.cause;
        causes.set(cause, (causes.get(cause) ?? 0) + 1);
      }
    });

    console.log(
      `results-parse: ${lines.toLocaleString('en-US')} lines, ${megabytes(mix.bytes)} (seed ${SEED})`,
    );
    printFigure('machine', machineConditions());
    report('bare readline', bare, mix);
    report('readline + JSON.parse', parsed, mix);
    report('readResultLines + classify', full, mix);
    printFigure('classify vs bare readline', times(full.ms, bare.ms));
    printFigure('classify vs readline+JSON.parse', times(full.ms, parsed.ms));
    printFigure('outcomes', describeOutcomes(causes));
    printFigure(
      'expected',
      `ok ${mix.ok}, api_error ${mix.apiError}, malformed_result ${mix.malformed}, max_tokens ${mix.maxTokens}, invalid_json ${mix.invalidJson}, schema_mismatch ${mix.schemaMismatch}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(work: () => Promise<void>): Promise<Pass> {
  const memory = new MemoryPeak();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  return { ms, memory: memory.stop() };
}

function report(label: string, pass: Pass, mix: ResultsMix): void {
  printFigure(
    label,
    `${milliseconds(pass.ms)}  ${perSecond(mix.lines, pass.ms, 'lines')}  ${megabytesPerSecond(mix.bytes, pass.ms)}  ${microsecondsEach(pass.ms, mix.lines)}/line  ` +
      `heap peak +${megabytes(pass.memory.heap)} (${times(pass.memory.heap, mix.bytes)} file), retained +${megabytes(pass.memory.retainedHeap)}`,
  );
}

async function bareReadline(path: string): Promise<void> {
  let count = 0;
  for await (const line of createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  })) {
    if (line.length > 0) count++;
  }
  if (count === 0) throw new Error(`No lines read from ${path}.`);
}

async function readlineWithParse(path: string): Promise<void> {
  let parsed = 0;
  for await (const line of createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  })) {
    try {
      JSON.parse(line);
      parsed++;
    } catch {
      // Malformed lines are part of the mix; the baseline only skips them.
    }
  }
  if (parsed === 0) throw new Error(`No JSON lines parsed from ${path}.`);
}

function describeOutcomes(causes: Map<string, number>): string {
  return [...causes.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([cause, count]) => `${cause} ${count}`)
    .join(', ');
}
