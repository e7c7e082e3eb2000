import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { billsPerRecord, catalogRecordOf } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatorClock } from '../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

// An emulated hour per real second: a batch turnaround of 10-60 minutes takes 0.2-1 real seconds.
const TIME_SCALE = 3_600;
const MINUTE = 60_000;

describe('auto when Flex sheds every request', () => {
  let emulator: RunningEmulator | undefined;
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  it('sends the critical path by batch while Flex rests, instead of waiting for Flex forever', async () => {
    // Flex is down (every request shed with 503, unbilled), as on a very busy day; batch works.
    emulator = await startEmulator({
      timeScale: TIME_SCALE,
      seed: 29,
      turnaroundMs: { min: 10 * MINUTE, max: 60 * MINUTE },
      tiers: { flex: { shedRate: 1 } },
    });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 3,
      execution: { mode: 'auto', poll_interval: '1m', max_requests_per_job: 100 },
    });
    sandbox.removeAfterTest(workload.root);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, TIME_SCALE),
    });
    // 20 real seconds are 20 emulated hours: three batch waves take at most 3 of them.
    const summary = await session.runner.run(AbortSignal.timeout(20_000));
    await session.close();

    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 9, dead: 0 });
    // The outside observer: each page billed once, by batch (a shed request is not billed), and
    // each page only after the page before it was answered.
    const ledger = emulator.ledger.entries();
    expect([...billsPerRecord(ledger).values()]).toEqual(Array(9).fill(1));
    expect(ledger.every((entry) => entry.lane === 'batch')).toBe(true);
    const billedAt = new Map(ledger.map((entry) => [catalogRecordOf(entry), Date.parse(entry.at)]));
    for (const chain of workload.chains)
      for (let page = 1; page < chain.length; page++)
        expect(billedAt.get(chain[page]!)).toBeGreaterThan(billedAt.get(chain[page - 1]!)!);
    // The log says why the critical path went by batch.
    const fallbacks = events.flatMap((event) =>
      event.type === 'lane-decision' && event.lane === 'batch' ? [event.explanation] : [],
    );
    expect(fallbacks.length).toBeGreaterThan(0);
    expect(fallbacks[0]).toMatch(
      /^flex is resting \(its requests failed through every retry\); best effort: /,
    );
  }, 60_000);
});
