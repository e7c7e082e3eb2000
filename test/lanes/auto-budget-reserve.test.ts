import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { billsPerRecord } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { patientRequestTimeouts } from '../fixtures/emulator-clock.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { billed } from '../fixtures/billed-figures.js';

const TIME_SCALE = 2_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('auto pays for speed only from what max_cost leaves after every record still to send', () => {
  const roots: string[] = [];
  const emulators: RunningEmulator[] = [];
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  /** 30 chains of 2 pages; the batch lane takes 2 records a round, the synchronous lanes 4. */
  async function run(execution: Record<string, string | number>, timeScale = TIME_SCALE) {
    const emulator = await startEmulator({
      timeScale,
      seed: 31,
      turnaroundMs: { min: 10 * MINUTE, median: 45 * MINUTE, max: 24 * HOUR },
    });
    emulators.push(emulator);
    const workload = writeCatalogWorkload({
      books: 30,
      pages: 2,
      execution: {
        sync_concurrency: 4,
        max_concurrent_jobs: 1,
        max_requests_per_job: 2,
        poll_interval: '1m',
        ...execution,
      },
    });
    roots.push(workload.root);
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale,
      signal: AbortSignal.timeout(60_000),
      // Flex's 20 minutes are 600 real ms here, against answers of up to 450: a busy machine's pause
      // would give up on an answer on its way and send it again.
      syncRequestTimeoutMs: patientRequestTimeouts(timeScale),
    });
    const ledger = emulator.ledger.entries();
    return { summary, ledger, costUsd: billed(ledger).all.costUsd };
  }

  it('finishes every record within a cap that holds them all at half price, though the deadline wants standard', async () => {
    // What the workload costs at half price, all of it on Flex: only its bill counts, not its time,
    // so it runs ten times faster.
    const cheap = await run({ mode: 'flex' }, TIME_SCALE * 10);
    expect(cheap.summary.counts).toMatchObject({ done: 60, dead: 0 });
    const maxCost = Number((cheap.costUsd * 1.5).toFixed(6));
    // A deadline neither batch nor Flex meets: auto pays for standard while the budget has room
    // beyond the half price of every record still to send. Most ready records are beyond what a
    // round lists (its free batch and synchronous room), and they must be reserved for too.
    const auto = await run({ mode: 'auto', deadline: '10m', max_cost: maxCost });
    const context = `auto $${auto.costUsd.toFixed(6)} of max_cost $${maxCost}, lanes ${JSON.stringify(auto.summary.lanes)}, counts ${JSON.stringify(auto.summary.counts)}`;
    expect(auto.summary.counts, context).toMatchObject({ done: 60, dead: 0 });
    expect(auto.summary.finished, context).toBe(true);
    expect(auto.costUsd, context).toBeLessThanOrEqual(maxCost);
    expect([...billsPerRecord(auto.ledger).values()]).toEqual(Array(60).fill(1));
    // It did pay for speed where the budget allowed.
    expect(
      auto.ledger.some((entry) => entry.lane === 'standard'),
      context,
    ).toBe(true);
  }, 120_000);
});
