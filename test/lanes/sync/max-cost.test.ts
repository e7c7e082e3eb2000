import { describe, expect, it } from 'vitest';
import type { EmulatorOptions, RunningEmulator } from '../../../src/emulator/index.js';
import { createGeminiClient } from '../../../src/gemini/index.js';
import type { RunnerEvent } from '../../../src/runner/events.js';
import { billed } from '../../fixtures/billed-figures.js';
import { catalogOnEmulator } from '../../fixtures/catalog-on-emulator.js';
import type { CatalogWorkloadOptions } from '../../fixtures/catalog-workload.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession, runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_000;

/**
 * Starts, for a test of the describe that calls it, an emulator on TIME_SCALE and a catalog
 * workload, both closed or removed after the test.
 */
function emulatedCatalogs() {
  const sandbox = emulatorSandbox();
  return (emulatorOptions: EmulatorOptions, workloadOptions: CatalogWorkloadOptions) =>
    catalogOnEmulator(sandbox, workloadOptions, { timeScale: TIME_SCALE, ...emulatorOptions });
}

/** What the emulator's ledger billed, in dollars. */
function billedUsd(emulator: RunningEmulator): number {
  return billed(emulator.ledger.entries()).all.costUsd;
}

/** The messages of a run's warnings about execution.max_cost. */
function maxCostWarnings(events: readonly RunnerEvent[]): string[] {
  return events.flatMap((event) =>
    event.type === 'warning' && event.message.includes('execution.max_cost') ? [event.message] : [],
  );
}

describe('execution.max_cost', () => {
  const start = emulatedCatalogs();

  /** 16 records on Flex (answers in 1-5 minutes) under a cap that pays for a few of them. */
  async function cappedFlexWorkload() {
    const maxCost = 0.0013;
    const started = await start(
      { seed: 6, tiers: { flex: { latencyMs: { min: 60_000, max: 5 * 60_000 } } } },
      { books: 4, pages: 4, execution: { mode: 'flex', poll_interval: '30s', max_cost: maxCost } },
    );
    return { ...started, maxCost };
  }

  it('holds what would cross the cap, never sends it, and stops the run saying so', async () => {
    const { emulator, workload, maxCost } = await cappedFlexWorkload();
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
    });

    const billed = billedUsd(emulator);
    expect(billed).toBeGreaterThan(0);
    // On estimates: requests in flight when the cap was reached may bill above their estimate.
    expect(billed).toBeLessThanOrEqual(maxCost * 1.15);
    expect(summary.finished).toBe(false);
    expect(summary.counts.done).toBeLessThan(16);
    expect(summary.counts.in_flight).toBe(0);
    const held = events.filter((event) => event.type === 'lane-decision' && event.reason === 'max_cost');
    expect(held.length).toBeGreaterThan(0);
    // The cap as set, not rounded to cents ("of $0.00").
    for (const event of held)
      expect(event.type === 'lane-decision' && event.explanation).toMatch(
        /^held by max_cost: \$\d+\.\d{4} committed of \$0\.0013; /,
      );
    expect(maxCostWarnings(events).length).toBeGreaterThan(0);
  });

  it('is a cap per run, and the run that reaches it says so: running again sends up to max_cost more', async () => {
    const { emulator, workload, maxCost } = await cappedFlexWorkload();
    const runs: number[] = [];
    const warnings: string[] = [];
    for (let run = 0; run < 2; run++) {
      const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
        clock: emulatorClock(emulator, TIME_SCALE),
      });
      const before = billedUsd(emulator);
      const summary = await session.runner.run();
      await session.close();
      expect(summary.finished).toBe(false);
      runs.push(billedUsd(emulator) - before);
      warnings.push(...maxCostWarnings(events));
    }
    // Each run spent up to the cap (on estimates), the second as much as the first.
    for (const spent of runs) {
      expect(spent).toBeGreaterThan(maxCost / 2);
      expect(spent).toBeLessThanOrEqual(maxCost * 1.15);
    }
    expect(warnings).toHaveLength(2);
    for (const warning of warnings)
      expect(warning).toMatch(
        /^execution\.max_cost \(\$0\.0013\) is reached in this run: \d+ ready records are held and not sent\. Each run may send up to max_cost: run again to send up to \$0\.0013 more\.$/,
      );
  });

  it('says to raise the cap, not to run again, when a single record costs more than it', async () => {
    const { emulator, workload } = await start(
      { seed: 6 },
      { books: 2, pages: 2, execution: { mode: 'flex', poll_interval: '30s', max_cost: 0.00001 } },
    );
    const warnings: string[] = [];
    // Every run holds the same records: running again never sends them.
    for (let run = 0; run < 2; run++) {
      const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
        timeScale: TIME_SCALE,
      });
      expect(summary.finished).toBe(false);
      warnings.push(...maxCostWarnings(events));
    }
    expect(emulator.ledger.entries()).toEqual([]);
    expect(warnings).toHaveLength(2);
    for (const warning of warnings)
      expect(warning).toMatch(
        /^execution\.max_cost \(\$0\.00001\) is below what a single record costs: 2 ready records are held and not sent, the cheapest estimated at \$0\.\d{4}\. No run can send them at this cap: raise execution\.max_cost above \$0\.\d{4}\.$/,
      );
  });

  it('counts answers cut at MAX_TOKENS and sent again, and sends one again only within the cap', async () => {
    // Most answers are cut: each is billed, then sent again with twice the output limit. The cap saw
    // only each record's first estimate, so the run kept sending records: 59% past the cap.
    const maxCost = 0.004;
    const { emulator, workload } = await start(
      { seed: 14, faults: { rates: { max_tokens: 0.7 } } },
      {
        books: 10,
        pages: 5,
        execution: { mode: 'realtime', poll_interval: '30s', max_cost: maxCost, max_retries: 5 },
      },
    );
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
    });

    const ledger = emulator.ledger.entries();
    const cut = ledger.filter((entry) => entry.outcome === 'max_tokens');
    expect(cut.length).toBeGreaterThan(3);
    expect(billedUsd(emulator)).toBeLessThanOrEqual(maxCost * 1.15);
    expect(summary.finished).toBe(false);
    expect(summary.counts.in_flight).toBe(0);
    expect(maxCostWarnings(events).length).toBeGreaterThan(0);
  });

  // Until a run has billed an answer, the cap priced each record's output at an assumed 500 tokens,
  // though the workload's earlier runs said what its answers really cost: a run starting under a
  // tight cap held back what it could pay for.
  it('prices the first round from the output the workload was billed in earlier runs', async () => {
    const maxCost = 0.0013;
    const { emulator, workload } = await start(
      { seed: 9, turnaroundMs: { min: 60_000, max: 120_000 } },
      {
        books: 80,
        pages: 1,
        execution: { mode: 'batch', poll_interval: '30s', max_cost: maxCost, max_requests_per_job: 200 },
      },
    );
    const firstRound = async (): Promise<{ sent: number; billedOutput: number }> => {
      const { session } = await openEmulatedSession(workload.configPath, emulator, {
        clock: emulatorClock(emulator, TIME_SCALE),
      });
      const before = emulator.ledger.entries().length;
      const once = await session.runner.runOnce();
      const sent = once.counts.in_flight;
      // The rest of the run: its jobs come back and it sends what the cap still pays for.
      await session.runner.run();
      await session.close();
      const bills = emulator.ledger.entries().slice(before);
      return {
        sent,
        billedOutput: billed(bills).all.outputTokens / bills.length,
      };
    };

    const first = await firstRound();
    const second = await firstRound();
    // The answers are far shorter than the assumption: the second run's first round, priced from
    // the first run's answers, sends several times as many records.
    expect(first.billedOutput).toBeLessThan(250);
    expect(first.sent).toBeGreaterThan(0);
    expect(second.sent).toBeGreaterThan(first.sent * 2);
  });

  it('caps batch mode too: jobs are packed from the records the cap lets through', async () => {
    const maxCost = 0.0013;
    const { emulator, workload } = await start(
      { seed: 6, turnaroundMs: { min: 60_000, max: 120_000 } },
      {
        books: 4,
        pages: 4,
        execution: { mode: 'batch', poll_interval: '30s', max_cost: maxCost, max_requests_per_job: 100 },
      },
    );
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
    });

    const ledger = emulator.ledger.entries();
    expect(ledger.length).toBeGreaterThan(0);
    expect(ledger.every((entry) => entry.lane === 'batch')).toBe(true);
    // The cap holds on estimates: what was in flight when it was reached may be billed above its
    // estimate (here later pages answer longer than the run's mean so far), by less than the
    // estimate's stated tolerance.
    expect(billedUsd(emulator)).toBeLessThanOrEqual(maxCost * 1.15);
    expect(summary.finished).toBe(false);
    expect(events.some((event) => event.type === 'lane-decision' && event.reason === 'max_cost')).toBe(true);
  });
});

describe('a capped round, a chunk of ready records at a time', () => {
  const start = emulatedCatalogs();

  it('fills every free job slot in one pass though the room is twice a chunk', async () => {
    // Jobs of 2 records: a chunk is ten jobs' worth (20 records), the room 20 jobs (40 records).
    const { emulator, workload } = await start(
      { seed: 6 },
      {
        books: 48,
        pages: 1,
        execution: {
          mode: 'batch',
          poll_interval: '30s',
          max_cost: 100,
          max_concurrent_jobs: 20,
          max_requests_per_job: 2,
        },
      },
    );
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, TIME_SCALE),
    });
    const summary = await session.runner.runOnce();
    await session.close();

    expect(summary.jobsSubmitted).toBe(20);
    expect(summary.counts).toMatchObject({ in_flight: 40, ready: 8, done: 0 });
    // The API's own list: 20 jobs created in that one pass.
    const api = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    let jobs = 0;
    for await (const job of api.listBatches()) if (job.name) jobs += 1;
    expect(jobs).toBe(20);
  });
});
