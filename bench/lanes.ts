// Makespan and cost of one chain workload run batch-only, flex-only and auto, on the emulated clock:
// batch turnaround heavy-tailed as users report it (median 40 min, 99th percentile 24 h), Flex 1-15
// min. Each mode runs in a fresh emulator with the same seed, so every mode meets the same pages and
// the same turnaround stream. Cost is what the emulator's ledger billed. Beside each figure stands a
// floor from the same run: the makespan of the deepest chain were every step as fast as the lane's
// fastest draw seen in that run, and the cost were every record billed once at the batch price.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type RunnerClock } from '../src/clock.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { startEmulator, type LedgerEntry, type RunningEmulator } from '../src/emulator/index.js';
import { openWorkloadSession } from '../src/runner/workload-session.js';
import { costOf, GEMINI_PRICE_LIST } from '../src/pricing/index.js';
import { estimateWorkload } from '../src/service/index.js';
import { writeCatalogWorkload } from './catalog-workload.js';
import { machineConditions, printFigure, sizeFromEnv, times } from './figures.js';

/** BENCH_LANES_SEED: another draw of pages, turnarounds and latencies (the turnaround tail varies a lot by seed). */
const SEED = Number(process.env.BENCH_LANES_SEED ?? 5);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/**
 * Emulated ms per real ms (BENCH_LANES_TIME_SCALE): a 24 h batch job takes 43 real seconds. Not
 * higher: on the synchronous lanes each answer is settled (output fsynced, store committed) in real
 * milliseconds, and at 10,000 every such millisecond is 10 emulated seconds, which inflated the Flex
 * makespan by a fifth.
 */
const TIME_SCALE = Number(process.env.BENCH_LANES_TIME_SCALE ?? 2_000);
const TURNAROUND = { min: 5 * MINUTE, median: 40 * MINUTE, max: 24 * HOUR };
const FLEX_LATENCY = { min: 1 * MINUTE, max: 15 * MINUTE };
const MODES = ['batch', 'flex', 'auto'] as const;
/**
 * BENCH_LANES_FLEX_RPD: Flex's requests per day for the model (the config's `limits:`), for every
 * mode; unset, the price list's (10,000 a day at usage tier 1). A small one shows what `auto` does
 * when Flex's quota, not the chains' depth, bounds the run.
 */
const FLEX_RPD = process.env.BENCH_LANES_FLEX_RPD ? sizeFromEnv('BENCH_LANES_FLEX_RPD', 0) : null;
type Mode = (typeof MODES)[number];

interface ModeResult {
  mode: Mode;
  makespanMs: number;
  records: number;
  billed: number;
  costUsd: number;
  byLane: Record<string, { requests: number; costUsd: number }>;
  batchFloorUsd: number;
  /** The estimate's cost once the outputs are known (the sizes of finished records). */
  informedUsd: number | null;
  estimate: { costUsd: number | null; lowMs: number | null; highMs: number | null };
}

/** BENCH_LANES_BOOKS chains (default 20) of BENCH_LANES_PAGES pages (default 12). */
export async function benchLanes(): Promise<void> {
  const books = sizeFromEnv('BENCH_LANES_BOOKS', 20);
  const pages = sizeFromEnv('BENCH_LANES_PAGES', 12);
  const quota = FLEX_RPD === null ? '' : `, Flex ${FLEX_RPD} requests a day`;
  console.log(`lanes: ${books} chains × ${pages} pages, time scale ${TIME_SCALE}, seed ${SEED}${quota}`);
  console.log(`  machine: ${machineConditions()}`);
  console.log(
    `  batch turnaround ${TURNAROUND.min / MINUTE} min – ${TURNAROUND.max / HOUR} h, median ${TURNAROUND.median / MINUTE} min (log-normal); Flex ${FLEX_LATENCY.min / MINUTE}–${FLEX_LATENCY.max / MINUTE} min`,
  );
  const results: ModeResult[] = [];
  for (const mode of MODES) {
    const result = await runMode(mode, books, pages);
    if (result === null) {
      printFigure(mode, 'not run: execution.mode does not accept it yet');
      continue;
    }
    results.push(result);
    printResult(result, pages);
  }
  const batch = results.find((result) => result.mode === 'batch');
  if (!batch) return;
  for (const result of results) {
    if (result === batch) continue;
    printFigure(
      `${result.mode} vs batch-only`,
      `${times(batch.makespanMs, result.makespanMs)} sooner, cost ${times(result.costUsd, batch.costUsd)}`,
    );
  }
}

async function runMode(mode: Mode, books: number, pages: number): Promise<ModeResult | null> {
  const root = await mkdtemp(join(tmpdir(), `wb-bench-lanes-${mode}-`));
  const emulator = await startEmulator({
    seed: SEED,
    timeScale: TIME_SCALE,
    turnaroundMs: TURNAROUND,
    tiers: { flex: { latencyMs: FLEX_LATENCY } },
  });
  try {
    const configPath = await writeCatalogWorkload(root, {
      books,
      pages,
      seed: SEED,
      execution: { max_concurrent_jobs: 10, max_requests_per_job: 100, poll_interval: '1m', max_retries: 3 },
    });
    // `execution.mode` is added only for the modes other than batch, so the harness runs batch-only
    // on a wavebatch without lanes and picks the others up as soon as the config accepts them.
    if (mode !== 'batch') {
      const yaml = await readFile(configPath, 'utf8');
      await writeFile(configPath, yaml.replace('execution:\n', `execution:\n  mode: ${mode}\n`));
    }
    if (FLEX_RPD !== null) {
      const yaml = await readFile(configPath, 'utf8');
      const limits = `limits:\n  models:\n    gemini-2.5-flash:\n      flex: { rpd: ${FLEX_RPD} }\n`;
      await writeFile(configPath, `${yaml.trimEnd()}\n${limits}`);
    }
    let config;
    try {
      config = await loadConfig(configPath, {});
    } catch (error) {
      if (
        error instanceof ConfigError &&
        error.issues.some((issue) => (issue.key ?? '').startsWith('execution'))
      )
        return null;
      throw error;
    }
    config = { ...config, apiKey: 'bench-key', api: { ...config.api, base_url: emulator.url } };
    // Before the run, as a user would: output size is the estimator's guess (no finished records yet).
    const estimate = await estimateWorkload(config);
    const started = emulator.now();
    const session = await openWorkloadSession(config, { clock: emulatorClock(emulator) });
    try {
      const summary = await session.runner.run();
      if (!summary.finished) throw new Error(`${mode}: the run did not finish`);
    } finally {
      await session.close();
    }
    const makespanMs = emulator.now() - started;
    // Again with every output finished: output and context sizes are now measured, not guessed.
    const informed = (await estimateWorkload(config)).modes[mode];
    const ledger = emulator.ledger.entries();
    const lane = estimate.modes[mode];
    return {
      mode,
      makespanMs,
      records: books * pages,
      billed: ledger.length,
      costUsd: sum(ledger, (entry) => entry.costUsd),
      byLane: byLane(ledger),
      batchFloorUsd: batchFloor(ledger),
      informedUsd: informed.costUsd,
      estimate: {
        costUsd: lane.costUsd,
        lowMs: Number.isFinite(lane.timeMs.low) ? lane.timeMs.low : null,
        highMs: Number.isFinite(lane.timeMs.high) ? lane.timeMs.high : null,
      },
    };
  } finally {
    await emulator.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** The runner on the emulator's clock: an emulated minute of polling takes 1/TIME_SCALE of a real one. */
function emulatorClock(emulator: RunningEmulator): RunnerClock {
  return { now: () => emulator.now(), sleep: (ms, signal) => systemClock.sleep(ms / TIME_SCALE, signal) };
}

function sum(entries: readonly LedgerEntry[], value: (entry: LedgerEntry) => number): number {
  return entries.reduce((total, entry) => total + value(entry), 0);
}

function byLane(entries: readonly LedgerEntry[]): Record<string, { requests: number; costUsd: number }> {
  const lanes: Record<string, { requests: number; costUsd: number }> = {};
  for (const entry of entries) {
    const lane = (lanes[entry.lane] ??= { requests: 0, costUsd: 0 });
    lane.requests += 1;
    lane.costUsd += entry.costUsd;
  }
  return lanes;
}

/**
 * What exactly these answers would cost with every record billed once at the batch price (Flex's
 * too): the ledger's own tokens repriced by src/pricing, a retried record counted once.
 */
function batchFloor(entries: readonly LedgerEntry[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const entry of entries) {
    // Batch entries carry the record's key; a synchronous request is known by its prompt.
    const key = entry.key ?? entry.promptText;
    if (seen.has(key)) continue;
    seen.add(key);
    total += costOf(GEMINI_PRICE_LIST, entry.model, 'batch', entry) ?? 0;
  }
  return total;
}

function hours(ms: number | null): string {
  return ms === null ? 'never' : `${(ms / HOUR).toFixed(1)} h`;
}

function printResult(result: ModeResult, pages: number): void {
  const lanes = Object.entries(result.byLane)
    .map(([lane, figures]) => `${lane} ${figures.requests} ($${figures.costUsd.toFixed(4)})`)
    .join(', ');
  printFigure(`${result.mode}: makespan (emulated)`, hours(result.makespanMs));
  const fastest = result.mode === 'batch' ? TURNAROUND.min : FLEX_LATENCY.min;
  printFigure(
    `${result.mode}: makespan floor`,
    `${hours(pages * fastest)} (${pages} steps at the lane's fastest draw, ${fastest / MINUTE} min)`,
  );
  printFigure(`${result.mode}: billed`, `${result.billed} requests for ${result.records} records: ${lanes}`);
  printFigure(
    `${result.mode}: cost (ledger)`,
    `$${result.costUsd.toFixed(4)}, floor $${result.batchFloorUsd.toFixed(4)} (${times(result.costUsd, result.batchFloorUsd)})`,
  );
  printFigure(
    `${result.mode}: estimate before the run`,
    `$${result.estimate.costUsd?.toFixed(4) ?? '?'}, ${hours(result.estimate.lowMs)} – ${hours(result.estimate.highMs)}`,
  );
  printFigure(
    `${result.mode}: estimate with outputs known`,
    `$${result.informedUsd?.toFixed(4) ?? '?'} (${result.informedUsd === null ? '?' : times(result.informedUsd, result.costUsd)} the ledger)`,
  );
}
