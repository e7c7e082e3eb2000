import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import {
  cutFirstAnswer,
  loggedAttempts,
  runPatiently,
  startPriorityEmulator,
  writePriorityWorkload,
} from '../../fixtures/priority-workload.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { billed } from '../../fixtures/billed-figures.js';

// Requests sent at once on one lane can be served by different tiers (priority over its limit is
// served, and billed, as standard). Each record's cost comes from its own answers' tiers (each try
// priced at the tier its answer names), never from another record's; its logged lane is the one it
// was sent on.
describe('synchronous answers of one round served by different tiers', () => {
  const sandbox = emulatorSandbox();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("logs each record at the ledger's cost for it, the price of the tier that served it", async () => {
    const emulator = await startPriorityEmulator(sandbox, { rpm: 1 });
    // A deadline only priority's latency meets: every record is sent on priority at once.
    const workload = writePriorityWorkload(sandbox, 6);
    const { summary } = await runPatiently(workload.configPath, emulator);
    expect(summary.counts).toMatchObject({ done: 6 });

    const bills = emulator.ledger.entries();
    expect(bills).toHaveLength(6);
    const lanes = new Set(bills.map((entry) => entry.lane));
    expect(lanes).toEqual(new Set(['priority', 'standard']));
    const events = await loggedAttempts(workload.root);
    expect(events).toHaveLength(6);
    for (const [index] of workload.chains.entries()) {
      const id = workload.chains[index]![0]!;
      const entry = bills.find((bill) => bill.promptText.includes(`School ${index + 1}, page 1:`));
      const event = events.find((logged) => logged.recordId === id);
      // The lane logged is the one asked for; the cost is the serving tier's, as the ledger's.
      expect({ id, lane: event?.lane, cost: event?.costUsd }).toEqual({
        id,
        lane: 'priority',
        cost: expect.closeTo(entry?.costUsd ?? -1, 12) as number,
      });
    }
  }, 40_000);

  it("logs a record whose tries different tiers served at the ledger's cost of each try", async () => {
    // The first answer is cut at MAX_TOKENS (served by priority); the try sent again is over
    // priority's one request a day, so standard serves and bills it.
    const emulator = await startPriorityEmulator(sandbox, { rpm: 1, rpd: 1 }, cutFirstAnswer());
    const workload = writePriorityWorkload(sandbox, 1);
    // The cut try could not be logged when it came back (a store write failed): it is logged with
    // the final try when the request settles, one attempt for both.
    vi.spyOn(SqliteStore.prototype, 'logFailedTry').mockRejectedValueOnce(new Error('disk I/O error'));
    const { summary } = await runPatiently(workload.configPath, emulator);
    expect(summary.counts).toMatchObject({ done: 1 });

    const bills = emulator.ledger.entries();
    expect(bills.map((entry) => entry.lane)).toEqual(['priority', 'standard']);
    const ledgerUsd = billed(bills).all.costUsd;
    const events = await loggedAttempts(workload.root);
    expect(events.map((event) => ({ lane: event.lane, requests: event.requests }))).toEqual([
      { lane: 'priority', requests: 2 },
    ]);
    expect(events[0]?.costUsd).toBeCloseTo(ledgerUsd, 12);
    expect(summary.costUsd).toBeCloseTo(ledgerUsd, 12);
  }, 40_000);
});
