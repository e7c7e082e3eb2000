import { describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/index.js';
import { LaneLimiters } from '../../../src/lanes/sync/lane-limiters.js';
import { SyncExecutor } from '../../../src/lanes/sync/sync-executor.js';
import { GEMINI_PRICE_LIST } from '../../../src/pricing/index.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';

const MODEL = 'gemini-2.5-flash';
// 600 emulated ms per real ms: Flex's 1-15 minutes take 0.1-1.5 real s, under the lane's 20-minute
// timeout (2 s) by half a second. At 3,000 times that margin was 100 ms, and a busy machine's pause
// gave up on answers on their way, sent and billed again.
const TIME_SCALE = 600;

describe('Flex on the emulator: minutes of latency and shed requests', () => {
  const sandbox = emulatorSandbox();

  it('gets every answer through shedding, each billed once at the Flex price', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 21,
      tiers: { flex: { latencyMs: { min: 60_000, max: 15 * 60_000 }, shedRate: 0.4 } },
    });
    const retries: unknown[] = [];
    const executor = new SyncExecutor({
      api: createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url }),
      clock: emulatorClock(emulator, TIME_SCALE),
      limiters: new LaneLimiters(GEMINI_PRICE_LIST),
      concurrency: 4,
      retry: { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 30_000 },
      random: () => 0.5,
      onRetry: (info) => retries.push(info.error),
    });
    const started = emulator.now();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        executor.execute({
          id: `chapter-${i}`,
          model: MODEL,
          lane: 'flex',
          request: { contents: [{ role: 'user', parts: [{ text: `Write chapter ${i}.` }] }] },
          estimatedTokens: 6,
        }),
      ),
    );

    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(outcomes.map((outcome) => (outcome.ok ? outcome.servedTier : null))).toEqual(
      Array.from({ length: 10 }, () => 'flex'),
    );
    // Some were shed and sent again; shed requests are not billed, so each chapter is billed once.
    expect(retries.length).toBeGreaterThan(0);
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(10);
    expect(new Set(ledger.map((entry) => entry.promptText)).size).toBe(10);
    expect(ledger.every((entry) => entry.lane === 'flex')).toBe(true);
    // Every answer took at least Flex's minute on the emulated clock.
    for (const entry of ledger) expect(Date.parse(entry.at) - started).toBeGreaterThanOrEqual(60_000);
  });
});
