import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runOnEmulatorClock } from '../fixtures/session.js';

const TIME_SCALE = 2_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('the summary says why auto sent each attempt on its lane', () => {
  const roots: string[] = [];
  const emulators: RunningEmulator[] = [];
  afterEach(async () => {
    for (const emulator of emulators.splice(0)) await emulator.close();
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it('counts each settled attempt once by its reason, though refused job creations decide records again', async () => {
    // The project runs one batch job at a time, the config allows ten: creates are refused (429)
    // and their records decided again, round after round.
    const emulator = await startEmulator({
      timeScale: TIME_SCALE,
      seed: 31,
      turnaroundMs: { min: 10 * MINUTE, max: HOUR },
      quotas: { maxConcurrentBatchJobs: 1 },
    });
    emulators.push(emulator);
    const workload = writeCatalogWorkload({
      books: 6,
      pages: 2,
      execution: { mode: 'auto', deadline: '48h', max_requests_per_job: 2, poll_interval: '1m' },
    });
    roots.push(workload.root);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });
    expect(summary.counts).toMatchObject({ done: 12, dead: 0 });
    // Creates were refused and their records decided again, each decision logged once all the same.
    expect(events.some((event) => event.type === 'quota-wait')).toBe(true);
    const decided = events.filter((event) => event.type === 'lane-decision' && event.lane === 'batch');
    expect(decided).toHaveLength(12);
    // Every record went by batch for the width (a 48-hour deadline), billed once.
    expect(emulator.ledger.entries().every((entry) => entry.lane === 'batch')).toBe(true);
    expect(summary.lanes).toEqual({
      batch: { done: 12, attempts: 12, costUsd: expect.any(Number), reasons: { width: 12 } },
    });
  }, 90_000);
});
