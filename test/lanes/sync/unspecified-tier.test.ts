import { describe, expect, it } from 'vitest';
import {
  loggedAttempts,
  runPatiently,
  startPriorityEmulator,
  writePriorityWorkload,
} from '../../fixtures/priority-workload.js';
import { startRecordingProxy } from '../../fixtures/recording-proxy.js';
import { emulatorSandbox } from '../../emulator/harness.js';

// usageMetadata.serviceTier is the API's ServiceTier enum, whose `unspecified` is "Default service
// tier, which is standard" (@google/genai's ServiceTier.UNSPECIFIED). An answer naming it was priced
// at the lane the request was sent on: a priority request's at priority's price, 80% over standard's.
describe('a synchronous answer whose serviceTier is unspecified', () => {
  const sandbox = emulatorSandbox();

  it("is priced at standard's price, as the ledger bills it", async () => {
    // Priority has room for no prompt (1 token a minute): standard serves and bills the request.
    const emulator = await startPriorityEmulator(sandbox, { tpm: 1 });
    // The API names the tier that served it `unspecified` instead of `standard`.
    const proxy = await startRecordingProxy(emulator.url, {
      rewrite: (call, body) => {
        if (!call.path.includes(':generateContent')) return undefined;
        const answer = body as { usageMetadata?: Record<string, unknown> };
        if (answer.usageMetadata?.serviceTier !== 'standard') return undefined;
        return { ...answer, usageMetadata: { ...answer.usageMetadata, serviceTier: 'unspecified' } };
      },
    });
    try {
      // A deadline only priority's latency meets: the record is sent on priority.
      const workload = writePriorityWorkload(sandbox, 1);
      const { summary } = await runPatiently(workload.configPath, { ...emulator, url: proxy.url });
      expect(summary.counts).toMatchObject({ done: 1 });

      const billed = emulator.ledger.entries();
      expect(billed.map((entry) => entry.lane)).toEqual(['standard']);
      const logged = await loggedAttempts(workload.root);
      // The lane logged is the one asked for; the cost is standard's, the ledger's.
      expect(logged.map((event) => ({ lane: event.lane, cost: event.costUsd }))).toEqual([
        { lane: 'priority', cost: expect.closeTo(billed[0]?.costUsd ?? -1, 12) as number },
      ]);
      expect(summary.costUsd).toBeCloseTo(billed[0]?.costUsd ?? -1, 12);
    } finally {
      await proxy.close();
    }
  }, 40_000);
});
