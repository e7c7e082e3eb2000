import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { createGeminiClient, GeminiApiError, type GeminiClient } from '../../../src/gemini/index.js';
import type { SyncLane } from '../../../src/lanes/lane.js';
import { LaneLimiters } from '../../../src/lanes/sync/lane-limiters.js';
import {
  DEFAULT_MAX_OUTPUT_TOKENS_CAP,
  largerOutputLimit,
  SyncExecutor,
  type SyncExecutorOptions,
  type SyncRequest,
} from '../../../src/lanes/sync/sync-executor.js';
import { applyOverrides, GEMINI_PRICE_LIST } from '../../../src/pricing/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { expectRpmHeld, quotaCounting } from '../../fixtures/rpm-hold.js';
import { VirtualTime } from '../../fixtures/virtual-time.js';

const MODEL = 'gemini-2.5-flash';
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 400 };

/** Record `id`'s request on `lane` asking MODEL `text`, its input estimated at `estimatedTokens`. */
function syncRequest(
  id: string,
  lane: SyncLane,
  text: string,
  estimatedTokens: number,
  generationConfig?: Record<string, unknown>,
): SyncRequest {
  return {
    id,
    model: MODEL,
    lane,
    request: {
      contents: [{ role: 'user', parts: [{ text }] }],
      ...(generationConfig ? { generationConfig } : {}),
    },
    estimatedTokens,
  };
}

function clientFor(emulator: RunningEmulator): GeminiClient {
  return createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
}

function executorFor(
  emulator: RunningEmulator,
  overrides: Partial<SyncExecutorOptions> = {},
  timeScale = 1,
): SyncExecutor {
  return new SyncExecutor({
    api: clientFor(emulator),
    clock: emulatorClock(emulator, timeScale),
    limiters: new LaneLimiters(GEMINI_PRICE_LIST),
    concurrency: 8,
    retry: FAST_RETRY,
    random: () => 0.5,
    ...overrides,
  });
}

/** An executor on virtual time: its calls to `client` run inside `time.during`. */
function virtualExecutor(
  time: VirtualTime,
  client: GeminiClient,
  limiters: LaneLimiters,
  overrides: Partial<SyncExecutorOptions> = {},
): SyncExecutor {
  return new SyncExecutor({
    api: {
      generateContent: (model, request, options) =>
        time.during(() => client.generateContent(model, request, options)),
    },
    clock: time,
    limiters,
    concurrency: 8,
    retry: FAST_RETRY,
    ...overrides,
  });
}

describe('SyncExecutor against the emulator', () => {
  const sandbox = emulatorSandbox();

  it('sends the lane as serviceTier (none for standard) and returns a STOP answer with its usage', async () => {
    const tiers: unknown[] = [];
    const emulator = await sandbox.startEmulator({
      responder: (call) => {
        tiers.push(call.request.serviceTier);
        return undefined;
      },
    });
    const executor = executorFor(emulator);
    const flex = await executor.execute(syncRequest('r1', 'flex', 'Describe page one.', 5));
    const standard = await executor.execute(syncRequest('r2', 'standard', 'Describe page two.', 5));
    expect(tiers).toEqual(['flex', undefined]);
    if (!flex.ok) throw new Error(flex.message);
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(2);
    expect(flex.usage).toEqual({
      inputTokens: ledger[0]?.inputTokens,
      outputTokens: ledger[0]?.outputTokens,
    });
    expect(flex.attempts).toBe(1);
    expect(standard.ok).toBe(true);
  });

  it('recovers from 500, 503 and dropped connections, billing the one answer once', async () => {
    const emulator = await sandbox.startEmulator({
      faults: {
        http: [
          { kind: 'status_500', match: 'generate', count: 1 },
          { kind: 'status_503', match: 'generate', count: 1 },
          { kind: 'drop', match: 'generate', count: 1 },
        ],
      },
    });
    const retries: unknown[] = [];
    const executor = executorFor(emulator, { onRetry: (info) => retries.push(info.error) });
    const outcome = await executor.execute(syncRequest('r1', 'flex', 'hello', 2));
    expect(outcome).toMatchObject({ ok: true, attempts: 4 });
    expect(retries.map((error) => (GeminiApiError.isInstance(error) ? error.code : 'other'))).toEqual([
      'INTERNAL',
      'UNAVAILABLE',
      'NETWORK',
    ]);
    expect(emulator.ledger.entries()).toHaveLength(1);
  });

  it('retries an empty answer (billed) and reports both billed attempts', async () => {
    let calls = 0;
    const emulator = await sandbox.startEmulator({
      responder: () => {
        calls += 1;
        if (calls === 1) return { response: { candidates: [], usageMetadata: { promptTokenCount: 3 } } };
        return undefined;
      },
    });
    const outcome = await executorFor(emulator).execute(syncRequest('r1', 'standard', 'hello', 2));
    expect(outcome.ok).toBe(true);
    expect(outcome.attempts).toBe(2);
    expect(outcome.billed).toHaveLength(2);
    expect(emulator.ledger.entries()).toHaveLength(2);
  });

  it('gives up on a request that keeps failing, as retryable, after the policy allows', async () => {
    const emulator = await sandbox.startEmulator({
      faults: { http: [{ kind: 'status_503', match: 'generate' }] },
    });
    const outcome = await executorFor(emulator, {
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
    }).execute(syncRequest('r1', 'flex', 'hello', 2));
    expect(outcome).toMatchObject({ ok: false, cause: 'api_error', retryable: true, attempts: 3 });
    expect(emulator.ledger.entries()).toHaveLength(0);
  });

  it('retries MAX_TOKENS with twice the output limit until the answer fits', async () => {
    const limits: unknown[] = [];
    const emulator = await sandbox.startEmulator({
      responder: (call) => {
        limits.push(call.request.generationConfig?.maxOutputTokens);
        return undefined;
      },
    });
    const outcome = await executorFor(emulator).execute(
      syncRequest('r1', 'flex', 'Write a long answer.', 5, { maxOutputTokens: 2 }),
    );
    if (!outcome.ok) throw new Error(outcome.message);
    expect(limits[0]).toBe(2);
    expect(limits.length).toBeGreaterThan(1);
    for (let i = 1; i < limits.length; i++) expect(limits[i]).toBe((limits[i - 1] as number) * 2);
    const ledger = emulator.ledger.entries();
    expect(ledger.map((entry) => entry.outcome)).toEqual([...limits.slice(1).map(() => 'max_tokens'), 'ok']);
    expect(outcome.billed).toHaveLength(ledger.length);
  });

  it('sends an answer cut at MAX_TOKENS without an output limit again at the model maximum, billed twice in all', async () => {
    const limits: unknown[] = [];
    // About 1,500 output tokens: more than twice the cut answer's 30, so a limit of 60, 120 … would cut it again.
    const answer = JSON.stringify({ words: Array.from({ length: 600 }, (_, i) => `word${i}`) });
    const emulator = await sandbox.startEmulator({
      responder: (call) => {
        limits.push(call.request.generationConfig?.maxOutputTokens);
        if (limits.length > 1) return { text: answer };
        return {
          response: {
            candidates: [{ content: { parts: [{ text: '{"words": ["wo' }] }, finishReason: 'MAX_TOKENS' }],
            usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 30, totalTokenCount: 35 },
          },
        };
      },
    });
    const outcome = await executorFor(emulator).execute(
      syncRequest('r1', 'standard', 'Write a long answer.', 5),
    );
    if (!outcome.ok) throw new Error(outcome.message);
    expect(limits).toEqual([undefined, DEFAULT_MAX_OUTPUT_TOKENS_CAP]);
    expect(emulator.ledger.entries().map((entry) => entry.outcome)).toEqual(['max_tokens', 'ok']);
    expect(outcome.billed).toHaveLength(2);
  });

  it('stops at the output cap with a final max_tokens failure', async () => {
    const emulator = await sandbox.startEmulator();
    const outcome = await executorFor(emulator, { maxOutputTokensCap: 4 }).execute(
      syncRequest('r1', 'flex', 'Write a long answer.', 5, { maxOutputTokens: 2 }),
    );
    expect(outcome).toMatchObject({ ok: false, cause: 'max_tokens', retryable: false, attempts: 2 });
    if (!outcome.ok) expect(outcome.message).toContain('cap of 4');
  });

  it.each([
    ['SAFETY', 'safety'],
    ['RECITATION', 'recitation'],
    ['PROHIBITED_CONTENT', 'safety'],
  ])('does not retry a %s stop: final at once with the reason', async (reason, cause) => {
    const emulator = await sandbox.startEmulator({
      responder: () => ({
        response: {
          candidates: [{ content: { role: 'model', parts: [] }, finishReason: reason }],
          usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 0 },
        },
      }),
    });
    const outcome = await executorFor(emulator).execute(syncRequest('r1', 'flex', 'hello', 2));
    expect(outcome).toMatchObject({ ok: false, cause, retryable: false, attempts: 1 });
    if (!outcome.ok) expect(outcome.message).toContain(reason);
    expect(emulator.ledger.entries()).toHaveLength(1);
  });

  // A record queued for a concurrency slot when the run stopped was released only when a slot freed
  // (up to Flex's whole answer time): the wait for a slot now ends at the stop, nothing sent.
  it('ends the wait for a slot when the run winds down: that record is released at once, never sent', async () => {
    const timeScale = 100;
    let calls = 0;
    const emulator = await sandbox.startEmulator({
      timeScale,
      // 30 emulated minutes: 18 real seconds before the one slot frees.
      tiers: { flex: { latencyMs: 30 * 60_000 } },
      responder: () => {
        calls += 1;
        return undefined;
      },
    });
    const executor = executorFor(emulator, { concurrency: 1 }, timeScale);
    const abandon = new AbortController();
    const windDown = new AbortController();
    const holding = executor.execute({ ...syncRequest('r1', 'flex', 'first', 2), signal: abandon.signal });
    const queued = executor.execute({ ...syncRequest('r2', 'flex', 'second', 2), windDown: windDown.signal });
    await expect.poll(() => calls).toBe(1);
    const started = Date.now();
    windDown.abort(new Error('the run is stopping'));
    const outcome = await queued;
    expect(outcome).toMatchObject({ ok: false, interrupted: true, attempts: 0, billed: [] });
    expect(Date.now() - started).toBeLessThan(2_000);
    abandon.abort();
    await holding;
    // Only the first was ever sent.
    expect(calls).toBe(1);
    expect(executor.inFlight).toBe(0);
  }, 30_000);

  it('abandons an attempt after the request timeout and sends it again', async () => {
    const timeScale = 1000;
    let calls = 0;
    const emulator = await sandbox.startEmulator({
      timeScale,
      // The first call hangs for 200 real ms = 200 emulated s; the timeout is 30 emulated s.
      responder: () => {
        calls += 1;
        return undefined;
      },
      faults: { slowMs: { generate: 200 } },
    });
    const executor = executorFor(emulator, { requestTimeoutMs: { flex: 30_000 } }, timeScale);
    const started = Date.now();
    // Every attempt is slow: the request gives up after its attempts, each cut at the timeout.
    const outcome = await executor.execute(syncRequest('r1', 'flex', 'hello', 2));
    expect(outcome).toMatchObject({ ok: false, cause: 'api_error', retryable: true });
    if (!outcome.ok) expect(outcome.message).toContain('within 30 s');
    expect(outcome.attempts).toBe(FAST_RETRY.maxAttempts);
    // Cut at ~30 ms real each, not 200.
    expect(Date.now() - started).toBeLessThan(FAST_RETRY.maxAttempts * 200);
    expect(calls).toBeLessThanOrEqual(FAST_RETRY.maxAttempts);
  });

  it('leaves no timer armed once its answers are back (each held its request in memory for the lane timeout)', async () => {
    const emulator = await sandbox.startEmulator();
    const executor = executorFor(emulator);
    // Timers created during the calls and neither fired nor cleared after them, as async_hooks sees
    // them (unref'd ones too, which getActiveResourcesInfo leaves out).
    const armed = new Map<number, number>();
    const hook = createHook({
      init(asyncId, type, _trigger, resource) {
        if (type === 'Timeout') armed.set(asyncId, (resource as { _idleTimeout?: number })._idleTimeout ?? 0);
      },
      destroy(asyncId) {
        armed.delete(asyncId);
      },
    });
    hook.enable();
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          executor.execute(syncRequest(`r${index}`, 'flex', `Describe page ${index}.`, 5)),
        ),
      );
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
      // Timers cleared now are destroyed on the next turns of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      hook.disable();
    }
    // Short timers (the HTTP stack's own housekeeping) may still run; none as long as a lane's timeout.
    const long = [...armed.values()].filter((ms) => ms >= 60_000);
    expect(long).toEqual([]);
    expect(emulator.ledger.entries()).toHaveLength(20);
  });

  it('refuses a lane with no quota without calling the API', async () => {
    const emulator = await sandbox.startEmulator();
    const outcome = await executorFor(emulator).execute(syncRequest('r1', 'priority', 'hello', 2));
    expect(outcome).toMatchObject({ ok: false, retryable: false, attempts: 0 });
    if (!outcome.ok) expect(outcome.message).toContain('tier 2');
    expect(emulator.ledger.entries()).toHaveLength(0);
  });

  it('recovers from 429s when the real limit is far below the configured one', async () => {
    const time = new VirtualTime();
    const emulator = await sandbox.startEmulator({ realNow: time.now, quotas: { rpm: 5 } });
    const client = clientFor(emulator);
    const prices = applyOverrides(GEMINI_PRICE_LIST, {}, { models: { [MODEL]: { flex: { rpm: 20 } } } });
    const limiters = new LaneLimiters(prices);
    const executor = virtualExecutor(time, client, limiters, {
      retry: { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 20_000 },
    });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        executor.execute(syncRequest(`r${index}`, 'flex', `q${index}`, 2)),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(12);
    expect(emulator.ledger.entries()).toHaveLength(12);
    // The limiter learnt that the limit is about 5 a minute, not 20.
    expect(limiters.for(MODEL, 'flex').state(time.now()).share).toBeLessThan(0.5);
  });

  it('tells how long a request waited for the rate limiter, apart from the lane’s own time', async () => {
    const time = new VirtualTime();
    const emulator = await sandbox.startEmulator({ realNow: time.now });
    const client = clientFor(emulator);
    // Two Flex requests a day: the third waits for tomorrow's quota.
    const prices = applyOverrides(GEMINI_PRICE_LIST, {}, { models: { [MODEL]: { flex: { rpd: 2 } } } });
    const executor = virtualExecutor(time, client, new LaneLimiters(prices));
    const send = async (id: string) => {
      const started = time.now();
      const outcome = await executor.execute(syncRequest(id, 'flex', `Describe ${id}.`, 5));
      if (!outcome.ok) throw new Error(outcome.message);
      return { queuedMs: outcome.queuedMs, tookMs: time.now() - started };
    };
    const first = await send('r1');
    await send('r2');
    const third = await send('r3');
    const HOUR = 3_600_000;
    expect(first.queuedMs).toBeLessThan(1_000);
    expect(third.queuedMs).toBeGreaterThan(20 * HOUR);
    // The lane itself answered as fast as the first time: the wait was the quota's.
    expect(third.tookMs - third.queuedMs).toBeLessThan(first.tookMs + 1_000);
    expect(emulator.ledger.entries()).toHaveLength(3);
  });

  it('holds at least 90% of the RPM limit after warm-up with at most 1% 429s', async () => {
    // Virtual time shared by client and emulator: five emulated minutes in a second or two, exact.
    const time = new VirtualTime();
    const rpm = 60;
    const emulator = await sandbox.startEmulator({ realNow: time.now, quotas: { rpm } });
    const client = clientFor(emulator);
    const counts = { sent: 0, refused: 0 };
    const counting = quotaCounting(client, counts);
    const prices = applyOverrides(
      GEMINI_PRICE_LIST,
      {},
      { models: { [MODEL]: { standard: { rpm, tpm: 1e9 } } } },
    );
    const executor = virtualExecutor(time, counting, new LaneLimiters(prices), { concurrency: 16 });
    const start = emulator.now();
    const outcomes = await Promise.all(
      Array.from({ length: 330 }, (_, index) =>
        executor.execute(syncRequest(`r${index}`, 'standard', `request ${index}`, 4)),
      ),
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expectRpmHeld(emulator, start, rpm, 330, counts);
  });
});

describe('largerOutputLimit', () => {
  it('doubles the limit, or what was produced when none was set, up to the cap', () => {
    expect(largerOutputLimit(100, 100, 1000)).toBe(200);
    expect(largerOutputLimit(undefined, 300, 1000)).toBe(600);
    expect(largerOutputLimit(600, 600, 1000)).toBe(1000);
    expect(largerOutputLimit(1000, 1000, 1000)).toBeNull();
    expect(largerOutputLimit(undefined, 5000, 1000)).toBeNull();
  });
});
