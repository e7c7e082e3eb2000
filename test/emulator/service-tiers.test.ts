import { ApiError, GoogleGenAI, ServiceTier } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { costOf, GEMINI_PRICE_LIST } from '../../src/pricing/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { emulatorSandbox, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';
const MINUTE = 60_000;

/** One generateContent call on `tier` through the SDK (SDK 3.x sends it as the top-level serviceTier). */
function generate(ai: GoogleGenAI, text: string, tier?: ServiceTier, model = MODEL) {
  return ai.models.generateContent({
    model,
    contents: text,
    config: tier === undefined ? {} : { serviceTier: tier },
  });
}

/**
 * usageMetadata.serviceTier: the SDK passes it through, though its typings of the response's usage
 * metadata lack the field (3.6 still).
 */
function servedTier(response: { usageMetadata?: object }): unknown {
  return (response.usageMetadata as { serviceTier?: unknown } | undefined)?.serviceTier;
}

async function status(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

/** A raw generateContent body, for what the SDK would not send. */
async function rawGenerate(emulator: RunningEmulator, body: unknown): Promise<Response> {
  return fetch(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
    method: 'POST',
    headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('emulator service tiers (generateContent serviceTier)', () => {
  const sandbox = emulatorSandbox();

  it('serves flex, standard and priority, reports the serving tier and bills each at its price', async () => {
    const emulator = await sandbox.startEmulator({ seed: 4 });
    const ai = sdkFor(emulator);
    const responses = {
      flex: await generate(ai, 'Describe page one.', ServiceTier.FLEX),
      standard: await generate(ai, 'Describe page one.', ServiceTier.STANDARD),
      priority: await generate(ai, 'Describe page one.', ServiceTier.PRIORITY),
      none: await generate(ai, 'Describe page one.'),
    };
    expect(servedTier(responses.flex)).toBe('flex');
    expect(servedTier(responses.standard)).toBe('standard');
    expect(servedTier(responses.priority)).toBe('priority');
    expect(servedTier(responses.none)).toBe('standard');

    const ledger = emulator.ledger.entries();
    expect(ledger.map((entry) => entry.lane)).toEqual(['flex', 'standard', 'priority', 'standard']);
    for (const entry of ledger) {
      expect(entry.mode).toBe('realtime');
      expect(entry.costUsd).toBeCloseTo(
        costOf(GEMINI_PRICE_LIST, MODEL, entry.lane, {
          inputTokens: entry.inputTokens,
          outputTokens: entry.outputTokens,
        }) ?? Number.NaN,
        12,
      );
    }
    // Same prompt, so the same input tokens: the input part of the price is in the ratio of the lanes.
    const inputRate = (lane: 'flex' | 'standard' | 'priority') =>
      costOf(GEMINI_PRICE_LIST, MODEL, lane, { inputTokens: 1_000_000, outputTokens: 0 }) ?? 0;
    expect(inputRate('flex')).toBeCloseTo(inputRate('standard') / 2, 12);
    expect(inputRate('priority')).toBeGreaterThan(inputRate('standard'));
  });

  it('takes each tier its latency on the emulated clock: Flex minutes, standard and priority seconds', async () => {
    // 60,000 emulated ms per real ms: 15 emulated minutes pass in 15 real ms.
    const emulator = await sandbox.startEmulator({
      timeScale: 60_000,
      seed: 11,
      tiers: {
        flex: { latencyMs: { min: MINUTE, max: 15 * MINUTE } },
        standard: { latencyMs: { min: 1_000, max: 20_000 } },
        priority: { latencyMs: 2_000 },
      },
    });
    const ai = sdkFor(emulator);
    const spans: Record<string, number[]> = { flex: [], standard: [], priority: [] };
    for (let i = 0; i < 6; i++) {
      for (const tier of [ServiceTier.FLEX, ServiceTier.STANDARD, ServiceTier.PRIORITY]) {
        const sent = emulator.now();
        await generate(ai, `Page ${i}`, tier);
        const billedAt = Date.parse(emulator.ledger.entries().at(-1)?.at ?? '');
        spans[tier]?.push(billedAt - sent);
      }
    }
    // Billed when answered: the span from sending to billing is the tier's latency (a few real ms of
    // HTTP add up to a few emulated minutes at this scale, so only the lower bounds are exact).
    expect(Math.min(...(spans.flex ?? []))).toBeGreaterThanOrEqual(MINUTE);
    expect(Math.min(...(spans.standard ?? []))).toBeGreaterThanOrEqual(1_000);
    expect(Math.min(...(spans.priority ?? []))).toBeGreaterThanOrEqual(2_000);
    // Drawn per request: Flex latencies differ from one another.
    expect(new Set(spans.flex).size).toBeGreaterThan(1);
  });

  it('answers a configurable share of Flex requests with 503 "high demand", unbilled; standard is not shed', async () => {
    const emulator = await sandbox.startEmulator({ seed: 5, tiers: { flex: { shedRate: 0.4 } } });
    const ai = sdkFor(emulator);
    const outcomes: Array<number | 'ok'> = [];
    for (let i = 0; i < 40; i++) outcomes.push(await status(generate(ai, `Chapter ${i}`, ServiceTier.FLEX)));
    const shed = outcomes.filter((outcome) => outcome === 503).length;
    expect(shed).toBeGreaterThan(5);
    expect(shed).toBeLessThan(30);
    expect(outcomes.every((outcome) => outcome === 'ok' || outcome === 503)).toBe(true);
    expect(emulator.ledger.entries()).toHaveLength(40 - shed);
    for (let i = 0; i < 10; i++) expect(await status(generate(ai, `Standard ${i}`))).toBe('ok');

    const all = await sandbox.startEmulator({ tiers: { flex: { shedRate: 1 } } });
    const refused = await rawGenerate(all, { contents: [{ parts: [{ text: 'x' }] }], serviceTier: 'flex' });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: {
        code: 503,
        message:
          'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
        status: 'UNAVAILABLE',
      },
    });
    expect(all.ledger.entries()).toHaveLength(0);
  });

  it('keeps a separate RPM pool per model and tier', async () => {
    const emulator = await sandbox.startEmulator({
      quotas: { rpm: 3 },
      tierQuotas: {
        tiers: { flex: { rpm: 2 } },
        models: { 'gemini-2.5-pro': { standard: { rpm: 1 } } },
      },
    });
    const ai = sdkFor(emulator);
    expect(await status(generate(ai, 'a', ServiceTier.FLEX))).toBe('ok');
    expect(await status(generate(ai, 'b', ServiceTier.FLEX))).toBe('ok');
    const third = generate(ai, 'c', ServiceTier.FLEX);
    await expect(third).rejects.toMatchObject({ status: 429 });
    await expect(third).rejects.toThrow(
      /generate_content_paid_tier_requests, limit: 2, model: gemini-2\.5-flash/,
    );
    // Standard's own pool (3) is untouched by Flex's.
    for (const text of ['d', 'e', 'f']) expect(await status(generate(ai, text))).toBe('ok');
    expect(await status(generate(ai, 'g'))).toBe(429);
    // Another model, its own limit.
    expect(await status(generate(ai, 'h', undefined, 'gemini-2.5-pro'))).toBe('ok');
    expect(await status(generate(ai, 'i', undefined, 'gemini-2.5-pro'))).toBe(429);
    expect(emulator.ledger.entries().map((entry) => `${entry.model}/${entry.lane}`)).toEqual([
      'gemini-2.5-flash/flex',
      'gemini-2.5-flash/flex',
      'gemini-2.5-flash/standard',
      'gemini-2.5-flash/standard',
      'gemini-2.5-flash/standard',
      'gemini-2.5-pro/standard',
    ]);
  });

  it('serves a priority request over its limit on standard (reported and billed as standard)', async () => {
    const emulator = await sandbox.startEmulator({
      quotas: { rpm: 2 },
      tierQuotas: { tiers: { priority: { rpm: 1 } } },
    });
    const ai = sdkFor(emulator);
    const first = await generate(ai, 'a', ServiceTier.PRIORITY);
    const second = await generate(ai, 'b', ServiceTier.PRIORITY);
    expect(servedTier(first)).toBe('priority');
    expect(servedTier(second)).toBe('standard');
    expect(await status(generate(ai, 'c', ServiceTier.PRIORITY))).toBe('ok');
    // Priority and standard both full now.
    expect(await status(generate(ai, 'd', ServiceTier.PRIORITY))).toBe(429);
    expect(emulator.ledger.entries().map((entry) => entry.lane)).toEqual([
      'priority',
      'standard',
      'standard',
    ]);
  });

  it('takes serviceTier in generationConfig too, and refuses a tier Google does not know with 400', async () => {
    const emulator = await sandbox.startEmulator();
    const inConfig = await rawGenerate(emulator, {
      contents: [{ parts: [{ text: 'x' }] }],
      generationConfig: { serviceTier: 'flex' },
    });
    expect(inConfig.status).toBe(200);
    expect(
      ((await inConfig.json()) as { usageMetadata: { serviceTier: string } }).usageMetadata.serviceTier,
    ).toBe('flex');
    const upper = await rawGenerate(emulator, {
      contents: [{ parts: [{ text: 'x' }] }],
      serviceTier: 'FLEX',
    });
    expect(upper.status).toBe(400);
    expect(((await upper.json()) as { error: { status: string; message: string } }).error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message: expect.stringContaining(`'service_tier'`),
    });
    expect(emulator.ledger.entries()).toHaveLength(1);
  });

  it('bills a Flex answer the caller stopped waiting for, once it is done', async () => {
    // The test holds the emulator's clock: nothing moves until it says so.
    let realNow = Date.UTC(2026, 0, 1);
    const emulator = await sandbox.startEmulator({
      realNow: () => realNow,
      tiers: { flex: { latencyMs: 10 * MINUTE } },
    });
    const impatient = new GoogleGenAI({
      apiKey: 'k',
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: emulator.url, timeout: 100 },
    });
    await expect(generate(impatient, 'slow', ServiceTier.FLEX)).rejects.toThrow();
    expect(emulator.ledger.entries()).toHaveLength(0);
    realNow += 10 * MINUTE;
    await expect.poll(() => emulator.ledger.entries(), { timeout: 5_000 }).toMatchObject([{ lane: 'flex' }]);
  });
});
