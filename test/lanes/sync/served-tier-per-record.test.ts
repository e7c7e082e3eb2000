import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelCall } from '../../../src/emulator/model/index.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3600;

// Requests sent at once on one lane can be served by different tiers (priority over its limit is
// served, and billed, as standard). Each record's cost comes from its own answers' tiers (each try
// priced at the tier its answer names), never from another record's; its logged lane is the one it
// was sent on.
describe('synchronous answers of one round served by different tiers', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  afterEach(() => {
    vi.restoreAllMocks();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("logs each record at the ledger's cost for it, the price of the tier that served it", async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 5,
      tierQuotas: { tiers: { priority: { rpm: 1 } } },
    });
    const workload = writeCatalogWorkload({
      books: 6,
      pages: 1,
      // A deadline only priority's latency meets: every record is sent on priority at once.
      execution: { mode: 'auto', deadline: '90s', poll_interval: '1s' },
      extraYaml: 'limits:\n  usage_tier: tier2',
    });
    root = workload.root;
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      signal: AbortSignal.timeout(30_000),
    });
    expect(summary.counts).toMatchObject({ done: 6 });

    const billed = emulator.ledger.entries();
    expect(billed).toHaveLength(6);
    const lanes = new Set(billed.map((entry) => entry.lane));
    expect(lanes).toEqual(new Set(['priority', 'standard']));
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const events = (await store.listEvents()).filter((event) => event.kind === 'attempt');
    await store.close();
    expect(events).toHaveLength(6);
    for (const [index] of workload.chains.entries()) {
      const id = workload.chains[index]![0]!;
      const entry = billed.find((bill) => bill.promptText.includes(`School ${index + 1}, page 1:`));
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
    let calls = 0;
    const cutFirst = (call: ModelCall) => {
      calls += 1;
      if (calls > 1 || !JSON.stringify(call.request).includes('School 1, page 1:')) return undefined;
      return {
        response: {
          candidates: [{ content: { parts: [{ text: '{"courses": ["Lat' }] }, finishReason: 'MAX_TOKENS' }],
        },
      };
    };
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 5,
      tierQuotas: { tiers: { priority: { rpm: 1, rpd: 1 } } },
      responder: cutFirst,
    });
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { mode: 'auto', deadline: '90s', poll_interval: '1s' },
      extraYaml: 'limits:\n  usage_tier: tier2',
    });
    root = workload.root;
    // The cut try could not be logged when it came back (a store write failed): it is logged with
    // the final try when the request settles, one attempt for both.
    vi.spyOn(SqliteStore.prototype, 'logFailedTry').mockRejectedValueOnce(new Error('disk I/O error'));
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      signal: AbortSignal.timeout(30_000),
    });
    expect(summary.counts).toMatchObject({ done: 1 });

    const billed = emulator.ledger.entries();
    expect(billed.map((entry) => entry.lane)).toEqual(['priority', 'standard']);
    const ledgerUsd = billed.reduce((sum, entry) => sum + entry.costUsd, 0);
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const events = (await store.listEvents()).filter((event) => event.kind === 'attempt');
    await store.close();
    expect(events.map((event) => ({ lane: event.lane, requests: event.requests }))).toEqual([
      { lane: 'priority', requests: 2 },
    ]);
    expect(events[0]?.costUsd).toBeCloseTo(ledgerUsd, 12);
    expect(summary.costUsd).toBeCloseTo(ledgerUsd, 12);
  }, 40_000);
});
