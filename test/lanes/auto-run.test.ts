import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { RunSummary } from '../../src/runner/run-summary.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { billsPerRecord } from '../fixtures/catalog-ledger.js';
import { emulatorClock, patientRequestTimeouts } from '../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { billed } from '../fixtures/billed-figures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// 10,000 emulated ms per real ms: an emulated hour in 360 real ms, Flex's minute in 6.
const TIME_SCALE = 10_000;
// The auto run that must finish 5 times sooner than batch: its steps wait on Flex's minutes, not on
// batch's hours, so a busy machine's pause weighed 10 emulated seconds a real ms against it at 10,000.
const AUTO_TIME_SCALE = 1_000;
// The runs that race a deadline: 200 emulated ms per real ms, so the runner's own work on a busy
// machine (2 real seconds in a run, 8 emulated steps) costs minutes, not the hour it did at 2,000.
const DEADLINE_TIME_SCALE = 200;
// Batch turnaround as users see it: tens of minutes typically, many hours in the tail.
const TURNAROUND = { min: 10 * MINUTE, median: 45 * MINUTE, max: 24 * HOUR };
const FLEX_LATENCY = { min: MINUTE, max: 15 * MINUTE };

// No call here is meant to time out (auto-flex-timeout.test.ts is about that): at 10,000 times, Flex's
// 20-minute timeout was 120 real ms and its 15-minute answer 90, and a busy machine's pause gave up on
// answers on their way and sent them again, billed twice.
interface Outcome {
  summary: RunSummary;
  events: RunnerEvent[];
  makespanMs: number;
  costUsd: number;
  emulator: RunningEmulator;
  ids: string[];
}

describe('execution.mode auto on the emulator', () => {
  const roots: string[] = [];
  const emulators: RunningEmulator[] = [];
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  afterAll(async () => {
    const batch = await batchOnly?.catch(() => undefined);
    await batch?.emulator.close();
  });

  /**
   * The batch-only run that auto is measured against, run once for the tests that only read it (same
   * seed and workload as every run here). Its emulator stays open until the end; its folder goes
   * with the test that first ran it.
   */
  let batchOnly: Promise<Outcome> | undefined;
  const batchOnlyRun = (): Promise<Outcome> =>
    (batchOnly ??= runMode({ mode: 'batch' }, TIME_SCALE, undefined, true));

  /** One run of a 6 x 8 chain workload in a fresh emulator (same seed: the same pages, turnarounds and latencies). */
  async function runMode(
    execution: Record<string, string | number>,
    timeScale = TIME_SCALE,
    extraYaml?: string,
    keepEmulator = false,
  ): Promise<Outcome> {
    const emulator = await startEmulator({
      timeScale,
      seed: 17,
      turnaroundMs: TURNAROUND,
      tiers: { flex: { latencyMs: FLEX_LATENCY } },
    });
    if (!keepEmulator) emulators.push(emulator);
    const workload = writeCatalogWorkload({
      books: 6,
      pages: 8,
      execution: { max_concurrent_jobs: 10, max_requests_per_job: 100, poll_interval: '5m', ...execution },
      ...(extraYaml ? { extraYaml } : {}),
    });
    roots.push(workload.root);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, timeScale),
      syncRequestTimeoutMs: patientRequestTimeouts(timeScale),
    });
    const started = emulator.now();
    const summary = await session.runner.run();
    await session.close();
    const ledger = emulator.ledger.entries();
    return {
      summary,
      events,
      makespanMs: emulator.now() - started,
      costUsd: billed(ledger).all.costUsd,
      emulator,
      ids: workload.chains.flat(),
    };
  }

  it('finishes a deep-chain workload at least 5x sooner than batch-only at no more than 1.05x its cost', async () => {
    const batch = await batchOnlyRun();
    const auto = await runMode({ mode: 'auto' }, AUTO_TIME_SCALE);
    for (const run of [batch, auto]) {
      expect(run.summary.counts).toMatchObject({ done: 48, dead: 0 });
      // Every record billed exactly once, whichever lane took it.
      expect([...billsPerRecord(run.emulator.ledger.entries()).values()]).toEqual(run.ids.map(() => 1));
    }
    const context = `batch ${(batch.makespanMs / HOUR).toFixed(1)} h $${batch.costUsd.toFixed(5)}, auto ${(auto.makespanMs / HOUR).toFixed(1)} h $${auto.costUsd.toFixed(5)}`;
    expect(auto.makespanMs * 5, context).toBeLessThanOrEqual(batch.makespanMs);
    expect(auto.costUsd, context).toBeLessThanOrEqual(batch.costUsd * 1.05);
    // Each decision logged with its reason; the summary shows records and cost per lane.
    const decisions = auto.events.filter((event) => event.type === 'lane-decision');
    expect(decisions.length).toBeGreaterThanOrEqual(48);
    for (const decision of decisions) expect(decision.explanation).not.toBe('');
    const lanes = auto.summary.lanes;
    const done = Object.values(lanes).reduce((sum, figures) => sum + figures.done, 0);
    expect(done).toBe(48);
    const laneCost = Object.values(lanes).reduce((sum, figures) => sum + figures.costUsd, 0);
    expect(laneCost).toBeCloseTo(auto.costUsd, 9);
    // The summary sets the run beside a batch-only projection of the same work; the batch-only
    // run that really happened falls within it.
    expect(batch.summary.batchOnly).toBeNull();
    const compared = auto.summary.batchOnly;
    if (!compared) throw new Error('an auto run that used flex has no batch-only comparison');
    expect(batch.makespanMs, context).toBeGreaterThanOrEqual(compared.projectedMs.low);
    expect(batch.makespanMs, context).toBeLessThanOrEqual(compared.projectedMs.high);
    expect(compared.savedMs.low).toBe(Math.max(0, compared.projectedMs.low - auto.summary.elapsedMs));
    expect(compared.savedMs.high).toBe(compared.projectedMs.high - auto.summary.elapsedMs);
  }, 120_000);

  it('sends the width by batch when Flex’s daily quota cannot carry it, instead of waiting days for Flex', async () => {
    // Flex at 10 requests a day: the 48 records through Flex, the critical path's lane, would take
    // five emulated days. Batch steps first leave Flex only what its quota starts in time.
    const tinyFlex = ['limits:', '  models:', '    gemini-2.5-flash:', '      flex: { rpd: 10 }'].join('\n');
    const auto = await runMode({ mode: 'auto' }, TIME_SCALE, tinyFlex);
    expect(auto.summary.counts).toMatchObject({ done: 48, dead: 0 });
    const ledger = auto.emulator.ledger.entries();
    expect([...billsPerRecord(ledger).values()]).toEqual(auto.ids.map(() => 1));
    const billed = (lane: string) => ledger.filter((entry) => entry.lane === lane).length;
    // Flex took what its quota allowed (10 in any 24 hours), batch the rest, and the run ended
    // sooner than Flex alone could (48 records at 10 a day: more than four emulated days; the run
    // takes 15-30 emulated hours here, the bound leaves room for a loaded machine's delays).
    const days = Math.ceil(auto.makespanMs / (24 * HOUR));
    const context = `auto took ${(auto.makespanMs / HOUR).toFixed(1)} h, ${billed('flex')} on flex`;
    expect(auto.makespanMs, context).toBeLessThan(4 * 24 * HOUR);
    // The first round: every chain's first record by batch, none waiting for Flex.
    const first = auto.events.filter((event) => event.type === 'lane-decision').slice(0, 6);
    expect(first.map((event) => (event.type === 'lane-decision' ? event.lane : null))).toEqual(
      Array(6).fill('batch'),
    );
    expect(billed('flex'), context).toBeLessThanOrEqual(10 * days);
    expect(billed('batch') + billed('flex'), context).toBe(48);
    const widths = auto.events.flatMap((event) =>
      event.type === 'lane-decision' && event.reason === 'width' ? [event.explanation] : [],
    );
    expect(widths.some((explanation) => explanation.includes("within the time Flex's quota allows"))).toBe(
      true,
    );
  }, 120_000);

  it('meets a deadline that batch-only misses, within max_cost', async () => {
    const batch = await batchOnlyRun();
    const deadlineMs = 40 * MINUTE;
    expect(batch.makespanMs).toBeGreaterThan(deadlineMs);
    const maxCost = batch.costUsd * 3;
    // Slower emulated time for the run that races the clock: a real millisecond of the runner's own
    // work is 0.2 emulated seconds, not 10, so a busy machine does not eat the deadline.
    const auto = await runMode(
      { mode: 'auto', deadline: '40m', max_cost: Number(maxCost.toFixed(6)) },
      DEADLINE_TIME_SCALE,
    );
    expect(auto.summary.counts).toMatchObject({ done: 48, dead: 0 });
    const context = `auto ${(auto.makespanMs / MINUTE).toFixed(1)} min $${auto.costUsd.toFixed(5)} (max_cost $${maxCost.toFixed(5)}), lanes ${JSON.stringify(auto.summary.lanes)}`;
    expect(auto.makespanMs, context).toBeLessThanOrEqual(deadlineMs);
    expect(auto.costUsd, context).toBeLessThanOrEqual(maxCost);
    // Flex alone could not meet it: some steps were bought on a faster lane, for the deadline.
    const reasons = new Set(
      auto.events.flatMap((event) => (event.type === 'lane-decision' ? [event.reason] : [])),
    );
    expect(reasons.has('deadline')).toBe(true);
    expect(auto.summary.lanes.standard?.done ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('logs only the decisions it sends: the synchronous lanes share sync_concurrency', async () => {
    // Two synchronous slots for six chains racing a deadline: every round the policy wants more
    // synchronous sends (flex, standard, priority) than can start; what it logs must be what it sends.
    // Its time is not measured: 2,000 times (the synchronous calls wait each other's turn at 200).
    const auto = await runMode({ mode: 'auto', deadline: '40m', sync_concurrency: 2, max_cost: 1 }, 2_000);
    expect(auto.summary.counts).toMatchObject({ done: 48, dead: 0 });
    const ledger = auto.emulator.ledger.entries();
    const sent = new Map<string, number>();
    for (const event of auto.events)
      if (event.type === 'lane-decision' && event.lane !== null && event.lane !== 'batch')
        sent.set(event.lane, (sent.get(event.lane) ?? 0) + 1);
    const billed = new Map<string, number>();
    for (const entry of ledger)
      if (entry.lane !== 'batch') billed.set(entry.lane, (billed.get(entry.lane) ?? 0) + 1);
    expect(billed.size).toBeGreaterThan(0);
    // No faults and no shedding: each synchronous decision is one billed call on its lane.
    expect(Object.fromEntries(sent)).toEqual(Object.fromEntries(billed));
  }, 120_000);
});
