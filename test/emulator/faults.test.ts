import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGeminiClient, toInlinedRequest } from '../../src/gemini/index.js';
import { retryDelayOf } from '../../src/gemini/errors.js';
import { emulatorSandbox, inputLine, pollUntilDone, rawGet, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';
const inline = (keys: string[]) =>
  keys.map((key) => ({ contents: [{ role: 'user', parts: [{ text: `about ${key}` }] }], metadata: { key } }));

interface InlineItem {
  metadata: { key: string };
  response?: { candidates: Array<{ finishReason?: string }> };
  error?: { code: number; status: string };
}

describe('emulator faults', () => {
  const sandbox = emulatorSandbox();

  it('applies byKey faults one per processing and bills all but request_error', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: 10_000,
      turnaroundMs: 60_000,
      faults: { byKey: { a: ['safety', 'request_error'], b: ['request_error'], c: ['empty'] } },
    });
    const ai = sdkFor(emulator);
    const itemsOf = async () => {
      const job = await ai.batches.create({ model: MODEL, src: inline(['a', 'b', 'c', 'd']) });
      const done = await pollUntilDone(emulator, job.name ?? '');
      const items = (done.metadata as { output: { inlinedResponses: { inlinedResponses: InlineItem[] } } })
        .output.inlinedResponses.inlinedResponses;
      return Object.fromEntries(items.map((item) => [item.metadata.key, item]));
    };
    const first = await itemsOf();
    expect(first.a?.response?.candidates[0]?.finishReason).toBe('SAFETY');
    expect(first.b?.error).toEqual({
      code: 13,
      message: expect.stringContaining('internal error') as unknown,
    });
    expect(first.c?.response?.candidates).toEqual([]);
    expect(first.d?.response?.candidates[0]?.finishReason).toBe('STOP');
    const second = await itemsOf();
    expect(second.a?.error).toMatchObject({ code: 13 });
    expect(second.b?.response?.candidates[0]?.finishReason).toBe('STOP');
    const third = await itemsOf();
    expect(third.a?.response?.candidates[0]?.finishReason).toBe('STOP');

    const billed = emulator.ledger.entries().map((e) => `${e.key}:${e.outcome}`);
    expect(billed.filter((k) => k.startsWith('a:'))).toEqual(['a:safety', 'a:ok']);
    expect(billed.filter((k) => k.startsWith('b:'))).toEqual(['b:ok', 'b:ok']);
    expect(billed.filter((k) => k.startsWith('c:'))).toEqual(['c:empty', 'c:ok', 'c:ok']);
  });

  it('ends jobs FAILED or EXPIRED by jobSequence and by turnaround beyond jobExpiryMs, without billing', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: 10_000,
      turnaroundMs: 60_000,
      faults: { jobSequence: ['job_failed', 'job_expired', 'none'] },
    });
    const ai = sdkFor(emulator);
    const names: string[] = [];
    for (let i = 0; i < 3; i++)
      names.push((await ai.batches.create({ model: MODEL, src: inline([`k${i}`]) })).name ?? '');
    const [failed, expired, ok] = await Promise.all(names.map((name) => pollUntilDone(emulator, name)));
    expect(failed).toMatchObject({
      done: true,
      metadata: { state: 'BATCH_STATE_FAILED' },
      error: { code: 13 },
    });
    expect(failed?.response).toBeUndefined();
    expect(expired).toMatchObject({ done: true, metadata: { state: 'BATCH_STATE_EXPIRED' } });
    expect(ok).toMatchObject({ done: true, metadata: { state: 'BATCH_STATE_SUCCEEDED' } });
    expect(emulator.ledger.entries().map((e) => e.key)).toEqual(['k2']);

    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    expect(await client.getBatch(names[0] ?? '')).toMatchObject({ state: 'failed', error: { code: 13 } });
    await emulator.close();

    const expiring = await sandbox.startEmulator({
      timeScale: 100_000,
      turnaroundMs: 3 * 3600_000,
      jobExpiryMs: 3600_000,
    });
    const late = await sdkFor(expiring).batches.create({ model: MODEL, src: inline(['x']) });
    const done = await pollUntilDone(expiring, late.name ?? '');
    const metadata = done.metadata as { state: string; createTime: string; endTime: string };
    expect(metadata.state).toBe('BATCH_STATE_EXPIRED');
    expect(Date.parse(metadata.endTime) - Date.parse(metadata.createTime)).toBe(3600_000);
    expect(expiring.ledger.entries()).toHaveLength(0);
  });

  it('answers HTTP faults: 503 with a Google body, dropped connections, delays; plan replaceable over HTTP', async () => {
    const emulator = await sandbox.startEmulator({
      faults: { http: [{ kind: 'status_503', match: 'create', count: 1 }] },
    });
    const ai = sdkFor(emulator);
    const unavailable = (await ai.batches
      .create({ model: MODEL, src: inline(['a']) })
      .catch((caught: unknown) => caught)) as Error & { status: number };
    expect(unavailable.status).toBe(503);
    expect(JSON.parse(unavailable.message)).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
    const job = await ai.batches.create({ model: MODEL, src: inline(['a']) });

    const set = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        http: [
          { kind: 'drop', match: 'get', count: 1 },
          { kind: 'status_500', match: 'list', count: 1 },
        ],
        slowMs: { count: 150 },
      }),
    });
    expect(set.status).toBe(200);
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    await expect(client.getBatch(job.name ?? '')).rejects.toMatchObject({ code: 'NETWORK', retryable: true });
    expect((await client.getBatch(job.name ?? '')).state).toBe('pending');
    await expect(ai.batches.list()).rejects.toMatchObject({ status: 500 });
    const started = Date.now();
    await ai.models.countTokens({ model: MODEL, contents: 'slow' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const bad = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ rates: { safety: 2 } }),
    });
    expect(bad.status).toBe(400);
    const refusal = await bad.text();
    expect(refusal).toContain('rates.safety');
    expect(refusal).not.toContain('INPUT_FAULT_PLAN');
  });

  it('applies rates to real-time calls', async () => {
    const emulator = await sandbox.startEmulator({ faults: { rates: { max_tokens: 1 } } });
    const response = await sdkFor(emulator).models.generateContent({
      model: MODEL,
      contents: 'cut me short',
    });
    expect(response.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(emulator.ledger.entries()[0]?.outcome).toBe('max_tokens');
  });

  it('refuses batch creation over the concurrent-jobs and enqueued-token quotas with RetryInfo', async () => {
    // Jobs stay active for 600 ms of real time: long enough to be counted, short enough to wait for.
    const emulator = await sandbox.startEmulator({
      timeScale: 500,
      turnaroundMs: 300_000,
      quotas: { maxConcurrentBatchJobs: 2, maxEnqueuedTokensPerModel: 1000 },
    });
    const ai = sdkFor(emulator);
    const first = await ai.batches.create({ model: MODEL, src: inline(['a']) });
    await ai.batches.create({ model: MODEL, src: inline(['b']) });
    const refused = (await ai.batches
      .create({ model: MODEL, src: inline(['c']) })
      .catch((caught: unknown) => caught)) as Error & { status: number };
    expect(refused.status).toBe(429);
    const body = JSON.parse(refused.message) as {
      error: { status: string; details: Array<Record<string, unknown>> };
    };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    // RetryInfo is in real time: at timeScale 500 an emulated minute is 120 ms.
    const retryDelay = retryDelayOf(body.error.details);
    expect(retryDelay).toBeGreaterThan(0);
    expect(retryDelay).toBeLessThanOrEqual(120);
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    await expect(
      client.createBatch({
        model: MODEL,
        displayName: 'c',
        source: {
          requests: [toInlinedRequest('c', { contents: [{ role: 'user', parts: [{ text: 'c' }] }] })],
        },
      }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXHAUSTED' });

    await pollUntilDone(emulator, first.name ?? '');
    const big = [
      { contents: [{ role: 'user', parts: [{ text: 'x'.repeat(8000) }] }], metadata: { key: 'big' } },
    ];
    expect(
      await ai.batches
        .create({ model: MODEL, src: big })
        .catch((caught: { status: number }) => caught.status),
    ).toBe(429);
    expect(
      (await ai.batches.create({ model: 'gemini-2.5-pro', src: inline(['other-model']) })).name,
    ).toBeTruthy();
  });

  it('processes a job exactly once under concurrent polling', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1000, turnaroundMs: 50_000 });
    const dir = sandbox.tempDir('once');
    const keys = Array.from({ length: 200 }, (_, i) => `p${i}`);
    writeFileSync(join(dir, 'in.jsonl'), keys.map((key) => inputLine(key, `page ${key}`)).join('\n'));
    const ai = sdkFor(emulator);
    const file = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'jsonl' } });
    const job = await ai.batches.create({ model: MODEL, src: file.name ?? '' });
    await new Promise((resolve) => setTimeout(resolve, 45));
    const polls = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i)).then(() => rawGet(emulator, job.name ?? '')),
      ),
    );
    await pollUntilDone(emulator, job.name ?? '');
    for (let i = 0; i < 5; i++) await ai.batches.list();
    expect(polls.some((poll) => poll.body.done === true)).toBe(true);
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(200);
    expect(new Set(ledger.map((e) => e.key)).size).toBe(200);
  });
});
