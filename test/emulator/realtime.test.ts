import { describe, expect, it } from 'vitest';
import { retryDelayOf } from '../../src/gemini/errors.js';
import { emulatorSandbox, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';

describe('emulator real-time calls through the SDK', () => {
  const sandbox = emulatorSandbox();

  it('generates content with usage, bills it in real-time mode, and counts tokens for free', async () => {
    const emulator = await sandbox.startEmulator({ seed: 9 });
    const ai = sdkFor(emulator);
    const response = await ai.models.generateContent({
      model: MODEL,
      contents: 'Summarise the first page of the catalogue.',
      config: { systemInstruction: 'You are terse.' },
    });
    expect(response.text).toContain('synthetic answer');
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');

    const counted = await ai.models.countTokens({
      model: MODEL,
      contents: 'Summarise the first page of the catalogue.',
    });
    expect(counted.totalTokens).toBeGreaterThan(0);
    const wrapped = await fetch(`${emulator.url}/v1beta/models/${MODEL}:countTokens`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({
        generateContentRequest: {
          model: `models/${MODEL}`,
          contents: [{ parts: [{ text: 'Summarise the first page of the catalogue.' }] }],
        },
      }),
    });
    expect(((await wrapped.json()) as { totalTokens: number }).totalTokens).toBe(counted.totalTokens);

    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      mode: 'realtime',
      model: MODEL,
      key: null,
      batchName: null,
      promptText: 'You are terse.\nSummarise the first page of the catalogue.',
      inputTokens: response.usageMetadata?.promptTokenCount,
      // gemini-2.5-flash thinks by default: its thinking tokens are reported and billed as output.
      outputTokens:
        (response.usageMetadata?.candidatesTokenCount ?? 0) +
        (response.usageMetadata?.thoughtsTokenCount ?? 0),
      thoughtsTokens: response.usageMetadata?.thoughtsTokenCount,
      outcome: 'ok',
    });
    expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.totalTokenCount).toBe(
      (response.usageMetadata?.promptTokenCount ?? 0) + (ledger[0]?.outputTokens ?? 0),
    );
    const overHttp = (await (await fetch(`${emulator.url}/_emulator/ledger`)).json()) as {
      entries: unknown[];
      totals: Record<string, number>;
    };
    expect(overHttp.entries).toHaveLength(1);
    expect(overHttp.totals).toMatchObject({
      requests: 1,
      inputTokens: ledger[0]?.inputTokens,
      outputTokens: ledger[0]?.outputTokens,
    });
    expect(overHttp.totals.costUsd).toBeCloseTo(ledger[0]?.costUsd ?? -1, 9);
  });

  it('refuses requests over RPM with 429 RESOURCE_EXHAUSTED and RetryInfo', async () => {
    const emulator = await sandbox.startEmulator({ quotas: { rpm: 3 } });
    const ai = sdkFor(emulator);
    for (let i = 0; i < 3; i++) await ai.models.generateContent({ model: MODEL, contents: `hello ${i}` });
    const error = (await ai.models
      .generateContent({ model: MODEL, contents: 'one too many' })
      .catch((caught: unknown) => caught)) as Error & {
      status: number;
    };
    expect(error.status).toBe(429);
    const body = JSON.parse(error.message) as { error: { status: string; details: unknown[] } };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    const delay = retryDelayOf(body.error.details);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(60_000);
    expect(emulator.ledger.entries()).toHaveLength(3);
  });

  it('answers malformed requests with 400 INVALID_ARGUMENT', async () => {
    const emulator = await sandbox.startEmulator();
    const post = (body: string) =>
      fetch(`${emulator.url}/v1beta/models/${MODEL}:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': 'k' },
        body,
      });
    for (const body of ['{not json', JSON.stringify({ contents: [] }), JSON.stringify({ prompt: 'hi' })]) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    }
    expect(emulator.ledger.entries()).toHaveLength(0);
  });

  it('asks for an API key and never echoes it', async () => {
    const emulator = await sandbox.startEmulator();
    const anonymous = await fetch(`${emulator.url}/v1beta/batches`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    const byQuery = await fetch(`${emulator.url}/v1beta/files/nope?key=secret-key-123`);
    expect(byQuery.status).toBe(403);
    const text = await byQuery.text();
    expect(text).toContain('File nope or it may not exist');
    expect(text).not.toContain('secret-key-123');
    // A path no API serves is the front end's HTML 404, key or no key (test/emulator/front-end.test.ts).
    const unknown = await fetch(`${emulator.url}/v1beta/teapots`, { headers: { 'x-goog-api-key': 'k' } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('text/html; charset=UTF-8');
  });
});
