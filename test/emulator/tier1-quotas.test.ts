import { describe, expect, it } from 'vitest';
import { emulatorSandbox } from './harness.js';

/** A prompt of exactly `tokens` tokens as the emulator counts text (4 characters a token). */
function prompt(tokens: number): string {
  return 'abcd'.repeat(tokens);
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The quotaValue and quotaId of a 429's QuotaFailure. */
function violated(body: Record<string, unknown>): Array<{ quotaId: string; quotaValue: string }> {
  const details = (body.error as { details?: Array<{ violations?: unknown[] }> }).details ?? [];
  return details
    .flatMap((detail) => detail.violations ?? [])
    .map((violation) => {
      const { quotaId, quotaValue } = violation as { quotaId: string; quotaValue: string };
      return { quotaId, quotaValue };
    });
}

/** An inline batch of one request per entry of `tokens`. */
function batchOf(tokens: number[]) {
  return {
    batch: {
      inputConfig: {
        requests: {
          requests: tokens.map((count, index) => ({
            request: { contents: [{ role: 'user', parts: [{ text: prompt(count) }] }] },
            metadata: { key: `r${index}` },
          })),
        },
      },
    },
  };
}

// The emulator's default limits are Google's Tier 1 per model (gemini-facts.md; src/pricing), not
// 10M enqueued tokens, 4M TPM and 100K RPD for every model as they were.
describe('emulator: default quotas are Tier 1 per model', () => {
  const sandbox = emulatorSandbox();
  const MILLION = 1_000_000;

  it('admits batch jobs up to 3M enqueued tokens for 2.5 Flash and 5M for 2.5 Pro', async () => {
    const emulator = await sandbox.startEmulator({ turnaroundMs: 3_600_000 });
    const create = (model: string, tokens: number[]) =>
      post(`${emulator.url}/v1beta/models/${model}:batchGenerateContent`, batchOf(tokens));

    const flash = await create('gemini-2.5-flash', [MILLION, MILLION, MILLION / 2, MILLION / 2 + 1]);
    expect(flash.status).toBe(429);
    expect(violated(flash.body)).toEqual([{ quotaId: 'BatchEnqueuedTokensPerModel', quotaValue: '3000000' }]);
    expect((await create('gemini-2.5-flash', [MILLION, MILLION, MILLION])).status).toBe(200);

    expect((await create('gemini-2.5-pro', [MILLION, MILLION, MILLION, MILLION / 2])).status).toBe(200);
    expect((await create('gemini-2.5-pro', [MILLION])).status).toBe(200);
    const pro = await create('gemini-2.5-pro', [MILLION / 2 + 1]);
    expect(pro.status).toBe(429);
    expect(violated(pro.body)).toEqual([{ quotaId: 'BatchEnqueuedTokensPerModel', quotaValue: '5000000' }]);
  });

  it('limits generateContent to 2.5 Flash 1M tokens and 2.5 Pro 150 requests a minute, unless options raise them', async () => {
    const emulator = await sandbox.startEmulator();
    const generate = (model: string, tokens: number) =>
      post(`${emulator.url}/v1beta/models/${model}:generateContent`, {
        contents: [{ role: 'user', parts: [{ text: prompt(tokens) }] }],
      });

    expect((await generate('gemini-2.5-flash', 600_000)).status).toBe(200);
    const flash = await generate('gemini-2.5-flash', 600_000);
    expect(flash.status).toBe(429);
    expect(violated(flash.body)).toEqual([
      { quotaId: 'GenerateContentPaidTierInputTokensPerModelPerMinute', quotaValue: '1000000' },
    ]);

    for (let call = 0; call < 150; call++) expect((await generate('gemini-2.5-pro', 1)).status).toBe(200);
    const pro = await generate('gemini-2.5-pro', 1);
    expect(pro.status).toBe(429);
    expect(violated(pro.body)).toEqual([
      { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel', quotaValue: '150' },
    ]);

    const raised = await sandbox.startEmulator({
      quotas: { tpm: 4_000_000, maxEnqueuedTokensPerModel: 10_000_000 },
    });
    for (let call = 0; call < 2; call++) {
      const answer = await post(`${raised.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
        contents: [{ role: 'user', parts: [{ text: prompt(600_000) }] }],
      });
      expect(answer.status).toBe(200);
    }
  });

  it("takes one model's limits (quotas.models) over the value for every model and Tier 1", async () => {
    const emulator = await sandbox.startEmulator({
      turnaroundMs: 3_600_000,
      quotas: {
        rpm: 3,
        models: {
          'models/gemini-2.5-pro': { rpm: 1 },
          'gemini-2.5-flash': { maxEnqueuedTokensPerModel: 10 },
        },
      },
    });
    const generate = async (model: string) =>
      (
        await post(`${emulator.url}/v1beta/models/${model}:generateContent`, {
          contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        })
      ).status;
    expect([await generate('gemini-2.5-pro'), await generate('gemini-2.5-pro')]).toEqual([200, 429]);
    const flash = [];
    for (let call = 0; call < 4; call++) flash.push(await generate('gemini-2.5-flash'));
    expect(flash).toEqual([200, 200, 200, 429]);

    const create = (model: string, tokens: number[]) =>
      post(`${emulator.url}/v1beta/models/${model}:batchGenerateContent`, batchOf(tokens));
    const refused = await create('gemini-2.5-flash', [11]);
    expect(violated(refused.body)).toEqual([{ quotaId: 'BatchEnqueuedTokensPerModel', quotaValue: '10' }]);
    expect((await create('gemini-2.5-flash-lite', [MILLION])).status).toBe(200);

    // A model the emulator does not serve would be a limit never applied: refused at start.
    await expect(
      sandbox.startEmulator({ quotas: { models: { 'gemini-2.5-flsh': { rpm: 5 } } } }),
    ).rejects.toThrow(/quotas\.models\.gemini-2\.5-flsh must be keyed by a model the emulator serves/);
  });
});
