import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createGeminiClient, GeminiApiError } from '../../src/gemini/index.js';

// A 429 is against different quotas: batch jobs and enqueued tokens on the Batch API, requests and
// tokens per minute or day on generateContent. The advice names the settings that shape each.
describe('advice on a 429 fits the quota it is against', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    // One Flex request a minute for every model, answered at once.
    emulator = await startEmulator({
      tierQuotas: { tiers: { flex: { rpm: 1 } } },
      tiers: { flex: { latencyMs: { min: 0, max: 10 } } },
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('a synchronous request over its rate: the lane limits and sync_concurrency, not batch settings', async () => {
    const client = createGeminiClient({ apiKey: 'advice-test-key', baseUrl: emulator.url });
    const request = { contents: [{ role: 'user', parts: [{ text: 'Write a line.' }] }] };
    await client.generateContent('gemini-2.5-flash', request, { serviceTier: 'flex' });
    const error = await client.generateContent('gemini-2.5-flash', request, { serviceTier: 'flex' }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(GeminiApiError.isInstance(error)).toBe(true);
    const quota = error as GeminiApiError;
    expect(quota.code).toBe('QUOTA_EXHAUSTED');
    expect(quota.message).not.toMatch(/max_concurrent_jobs|enqueued_token_budget/);
    expect(quota.message).toMatch(/limits: .*rpm.*sync_concurrency/);
  });

  it('countTokens over its rate: its own free quota, used only to calibrate the estimate', async () => {
    emulator.setFaults({ http: [{ kind: 'status_429', match: 'count', count: 1 }] });
    const client = createGeminiClient({ apiKey: 'advice-test-key', baseUrl: emulator.url });
    const request = { contents: [{ role: 'user' as const, parts: [{ text: 'Write a line.' }] }] };
    const error = await client.countTokens('gemini-2.5-flash', request).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(GeminiApiError.isInstance(error)).toBe(true);
    const quota = error as GeminiApiError;
    expect(quota.code).toBe('QUOTA_EXHAUSTED');
    expect(quota.message).not.toMatch(/max_concurrent_jobs|enqueued_token_budget|sync_concurrency/);
    expect(quota.message).toMatch(/countTokens/);
    expect(quota.message).toMatch(/--calibrate/);
  });
});
