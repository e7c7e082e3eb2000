import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../src/lanes/sync/sync-executor.js';
import { billsPerRecord, catalogRecordOf } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

// 20,000 emulated ms per real ms: Flex's 20-minute request timeout is 60 real ms.
const TIME_SCALE = 20_000;
const MINUTE = 60_000;

describe('auto when Flex answers slower than its request timeout', () => {
  let emulator: RunningEmulator | undefined;
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  it('sends a record whose Flex call timed out by batch, not again on Flex: billed at most twice, never dead-lettered', async () => {
    // A very busy Flex: every answer takes 25-40 minutes, past the 20-minute timeout. Google
    // finishes, and bills, each call it was given, as the emulator does.
    emulator = await startEmulator({
      timeScale: TIME_SCALE,
      seed: 37,
      turnaroundMs: { min: 10 * MINUTE, max: 60 * MINUTE },
      tiers: { flex: { latencyMs: { min: 25 * MINUTE, max: 40 * MINUTE } } },
    });
    expect(25 * MINUTE).toBeGreaterThan(DEFAULT_REQUEST_TIMEOUT_MS.flex);
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { mode: 'auto', max_retries: 1, poll_interval: '1m', max_requests_per_job: 100 },
    });
    sandbox.removeAfterTest(workload.root);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });
    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    // Let the abandoned Flex calls finish (40 emulated minutes), then read the bill.
    await new Promise((resolve) => setTimeout(resolve, (40 * MINUTE) / TIME_SCALE + 200));
    const ledger = emulator.ledger.entries();
    const bills = billsPerRecord(ledger);
    // The first pages went to Flex (the critical path) and were abandoned there, billed once.
    expect(ledger.filter((entry) => entry.lane === 'flex').length).toBeGreaterThan(0);
    const moved = events.flatMap((event) =>
      event.type === 'lane-decision' && event.lane === 'batch' ? [event.explanation] : [],
    );
    expect(moved.some((text) => text.startsWith('its flex request got no answer within the timeout; '))).toBe(
      true,
    );
    for (const chain of workload.chains)
      for (const id of chain) {
        // At most the one abandoned Flex call, and the batch request that answered.
        expect(bills.get(id), id).toBeLessThanOrEqual(2);
        const flexBills = ledger.filter((entry) => catalogRecordOf(entry) === id && entry.lane === 'flex');
        expect(flexBills.length, id).toBeLessThanOrEqual(1);
      }
  }, 90_000);
});
