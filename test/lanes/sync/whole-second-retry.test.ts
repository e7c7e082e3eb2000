import { describe, expect, it } from 'vitest';
import { createGeminiClient, GeminiApiError, type GeminiClient } from '../../../src/gemini/index.js';
import { LaneLimiters } from '../../../src/lanes/sync/lane-limiters.js';
import { SyncExecutor } from '../../../src/lanes/sync/sync-executor.js';
import { GEMINI_PRICE_LIST } from '../../../src/pricing/index.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { VirtualTime } from '../../fixtures/virtual-time.js';

const MODEL = 'gemini-2.5-flash';
/** When the second request goes, after the first: its minute's window reopens 52.655 s later. */
const SECOND_SENT_AFTER_MS = 7_345;

// Google states RetryInfo in whole seconds at times, rounded down ("26s" with 26.66 s to go). A
// retry after exactly the stated delay came up to a second early and met another 429; and the
// "0s" of that second 429 sent retries back at once, one 429 after another, until the request's
// attempts ran out and it failed.
describe('a 429 whose RetryInfo states whole seconds, rounded down', () => {
  const sandbox = emulatorSandbox();

  it('is waited out in one retry: the emulator answers one 429, and each request is billed once', async () => {
    // Virtual time shared by the client and the emulator: the minute passes exactly, at once.
    const time = new VirtualTime();
    const emulator = await sandbox.startEmulator({
      realNow: time.now,
      quotas: { rpm: 1 },
      retryDelayPrecision: 'whole_seconds',
    });
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    const delays: string[] = [];
    let refused = 0;
    const counting: Pick<GeminiClient, 'generateContent'> = {
      generateContent: (model, request, options) =>
        time.during(async () => {
          try {
            return await client.generateContent(model, request, options);
          } catch (error) {
            if (GeminiApiError.isInstance(error) && error.code === 'QUOTA_EXHAUSTED') {
              refused += 1;
              delays.push(/wait (\d+) s/.exec(error.message)?.[1] ?? '?');
            }
            throw error;
          }
        }),
    };
    // The configured limits (Tier 1's 1,000 a minute) are far above the emulator's one: the client
    // learns the real limit from the 429 alone.
    const executor = new SyncExecutor({
      api: counting,
      clock: time,
      limiters: new LaneLimiters(GEMINI_PRICE_LIST),
      concurrency: 1,
      retry: { maxAttempts: 8, baseDelayMs: 1_000, maxDelayMs: 60_000 },
      random: () => 0,
    });
    const send = (id: string) =>
      executor.execute({
        id,
        model: MODEL,
        lane: 'standard',
        request: { contents: [{ role: 'user', parts: [{ text: `Describe ${id}.` }] }] },
        estimatedTokens: 3,
      });

    const started = time.now();
    expect(await send('first')).toMatchObject({ ok: true });
    await time.sleep(SECOND_SENT_AFTER_MS);
    const second = await send('second');

    expect(second, JSON.stringify(second)).toMatchObject({ ok: true, attempts: 2 });
    // 52.655 s to go was stated as 52 s; the retry waited 53 s, after the window reopened.
    expect({ refused, delays }).toEqual({ refused: 1, delays: ['52'] });
    const ledger = emulator.ledger.entries();
    expect(ledger.map((entry) => entry.promptText)).toEqual(['Describe first.', 'Describe second.']);
    expect(Date.parse(ledger[1]?.at ?? '') - started).toBe(SECOND_SENT_AFTER_MS + 53_000);
  });
});
