import { describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/index.js';
import { RemoteReconciler, type ReconcilerDeps } from '../../../src/lanes/batch/remote-reconciler.js';
import { EnqueuedTokenBudget } from '../../../src/planner/enqueued-token-budget.js';
import type { RunnerEvent } from '../../../src/runner/events.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { batchSettings, pageRequests, storeWithRecord } from '../../fixtures/one-record-job.js';

const PREFIX = 'wb-pages-0001-';
const JOB_ID = `${PREFIX}again`;
const CONFIGURED_BUDGET = 1_000_000;

// A stored intent (its first create failed for a passing reason, or a crash cut it off) is created
// again by the reconciler. When that create was refused for enqueued tokens, the reconciler waited
// the refusal out but left the learnt budget as it was: the next round packed the full budget again
// and met the same refusal, where a round's own refused create shrinks it.
describe('an intent the reconciler creates again, refused for enqueued tokens', () => {
  const sandbox = emulatorSandbox();

  it('shrinks the budget jobs are packed to, as a refused create of a round does', async () => {
    // The emulator counts the request's tokens itself: more than its limit of 5, estimated at 3.
    const emulator = await sandbox.startEmulator({ seed: 3, quotas: { maxEnqueuedTokensPerModel: 5 } });
    const root = sandbox.tempDir('reconciler-budget');
    const clock = Date.parse('2026-01-01T00:00:00Z');
    const store = await storeWithRecord(
      root,
      { id: 'p1', chainId: 'p1', position: 0, vars: {}, media: [] },
      () => new Date(clock),
    );
    const api = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    const events: RunnerEvent[] = [];
    const tokenBudget = new EnqueuedTokenBudget(CONFIGURED_BUDGET);
    const deps: ReconcilerDeps = {
      store,
      api,
      requests: await pageRequests(
        root,
        'Transcribe page {{ record.id }} of the ledger, every line of it, word for word.\n',
      ),
      settings: batchSettings('pages', root, emulator.url, { enqueuedTokenBudget: CONFIGURED_BUDGET }),
      clock: { now: () => clock, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
      emit: (event) => events.push(event),
      now: () => clock,
      jobPrefix: PREFIX,
      tokenBudget,
      scanIntervalMs: 60_000,
    };
    await store.createJobIntent({
      id: JOB_ID,
      model: 'gemini-2.5-flash',
      kind: 'inline',
      members: [{ recordId: 'p1', attempt: 0, promptHash: 'h', estimatedTokens: 3 }],
    });

    const reconciled = await new RemoteReconciler().reconcile(deps);

    expect(reconciled.quotaRetryDelayMs).toBeGreaterThan(0);
    expect(await store.getJob(JOB_ID)).toBeNull(); // dropped: its record is ready again
    expect(tokenBudget.current(clock)).toBeLessThan(CONFIGURED_BUDGET);
    const said = events.filter(
      (event) => event.type === 'warning' && /the token estimates undercount/.test(event.message),
    );
    expect(said).toHaveLength(1);
    await store.close();
  });
});
