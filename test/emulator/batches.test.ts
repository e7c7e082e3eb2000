import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobState } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, inputLine, pollUntilDone, rawGet, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';

describe('emulator Batch API through the SDK', () => {
  const sandbox = emulatorSandbox();

  it('runs a file batch PENDING -> RUNNING -> SUCCEEDED on the emulated clock and writes shuffled results', async () => {
    // 1 real ms = 200 emulated ms: a 100 s turnaround takes ~500 ms, of which ~50 ms PENDING.
    const emulator = await sandbox.startEmulator({ timeScale: 200, turnaroundMs: 100_000, seed: 3 });
    const dir = sandbox.tempDir('batch-file');
    const keys = Array.from({ length: 20 }, (_, i) => `rec-${i}`);
    const lines = keys.map((key) => inputLine(key, `Describe item ${key}`));
    // A line's other top-level fields are copied into its result, as Google does (arrays emptied).
    lines[0] = JSON.stringify({ ...(JSON.parse(lines[0] as string) as object), extra: { batch: 'nightly' } });
    lines.splice(5, 0, '{not json', JSON.stringify({ key: 'no-request', tags: ['x'] }));
    writeFileSync(join(dir, 'in.jsonl'), lines.join('\n') + '\n');
    const ai = sdkFor(emulator);
    const file = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'jsonl' } });

    const created = await ai.batches.create({
      model: MODEL,
      src: file.name ?? '',
      config: { displayName: 'nightly' },
    });
    expect(created.name).toMatch(/^batches\/[a-z0-9]+$/);
    expect(created.state).toBe(JobState.JOB_STATE_PENDING);
    expect(created.displayName).toBe('nightly');
    expect(created.model).toBe(`models/${MODEL}`);

    const seen = new Set<string>(['BATCH_STATE_PENDING']); // as create answered
    let done: Record<string, unknown> | undefined;
    for (let i = 0; i < 500 && !done; i++) {
      const { body } = await rawGet(emulator, created.name ?? '');
      seen.add(String((body.metadata as { state: string }).state));
      if (body.done) done = body;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect([...seen]).toEqual(['BATCH_STATE_PENDING', 'BATCH_STATE_RUNNING', 'BATCH_STATE_SUCCEEDED']);
    const metadata = done?.metadata as Record<string, unknown>;
    expect(metadata.batchStats).toEqual({
      requestCount: '22',
      successfulRequestCount: '20',
      failedRequestCount: '2',
    });
    expect(Date.parse(String(metadata.endTime)) - Date.parse(String(metadata.createTime))).toBe(100_000);
    const responsesFile = (metadata.output as { responsesFile: string }).responsesFile;
    // Named after its batch, as Google names a batch's files.
    expect(responsesFile).toBe(`files/batch-${(created.name ?? '').slice('batches/'.length)}`);
    expect((done?.response as { responsesFile: string }).responsesFile).toBe(responsesFile);

    const sdkJob = await ai.batches.get({ name: created.name ?? '' });
    expect(sdkJob.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    expect(sdkJob.dest?.fileName).toBe(responsesFile);

    await ai.files.download({ file: responsesFile, downloadPath: join(dir, 'out.jsonl') });
    const results = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            key?: string;
            response?: { candidates: unknown[]; usageMetadata: unknown };
            error?: { code: number };
            extra?: unknown;
            tags?: unknown;
          },
      );
    expect(results).toHaveLength(22);
    const okKeys = results.filter((r) => r.response).map((r) => r.key);
    expect([...okKeys].sort()).toEqual([...keys].sort());
    expect(okKeys).not.toEqual(keys); // not in input order
    // Error rows carry google.rpc.Status with the numeric gRPC code (3 = INVALID_ARGUMENT), not HTTP's.
    expect(results.filter((r) => r.error).map((r) => r.error?.code)).toEqual([3, 3]);
    expect(results.find((r) => r.key === 'no-request')?.error).toEqual({
      code: 3,
      message: expect.stringContaining('no "request" object') as unknown,
    });
    expect(results.find((r) => r.key === 'rec-0')?.response?.usageMetadata).toBeTruthy();
    expect(results.find((r) => r.key === 'rec-0')?.extra).toEqual({ batch: 'nightly' });
    // Google echoes a line's other fields, but an array comes back empty (go-genai#513); it was kept.
    expect(results.find((r) => r.key === 'no-request')?.tags).toEqual([]);
    expect(results.find((r) => r.key === 'rec-1')).not.toHaveProperty('extra');

    const ledger = emulator.ledger.entries();
    expect(ledger.map((e) => e.key).sort()).toEqual([...keys].sort());
    expect(ledger[0]).toMatchObject({ mode: 'batch', model: MODEL, batchName: created.name, outcome: 'ok' });
    expect(ledger.find((e) => e.key === 'rec-3')?.promptText).toBe('Describe item rec-3');
    expect(ledger.every((e) => e.at === metadata.endTime && e.costUsd > 0 && e.inputTokens > 0)).toBe(true);
  });

  it('answers inline requests inline, keyed by metadata', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 10_000, turnaroundMs: 60_000, seed: 4 });
    const ai = sdkFor(emulator);
    const src = ['a', 'b', 'c', 'd', 'e'].map((key) => ({
      contents: [{ role: 'user', parts: [{ text: `question ${key}` }] }],
      config: { systemInstruction: 'Be brief.', temperature: 0 },
      metadata: { key },
    }));
    const created = await ai.batches.create({ model: MODEL, src, config: { displayName: 'inline' } });
    const done = await pollUntilDone(emulator, created.name ?? '');
    const inlined = (done.metadata as { output: { inlinedResponses: { inlinedResponses: unknown[] } } })
      .output.inlinedResponses.inlinedResponses as Array<{
      metadata: { key: string };
      response: { candidates: Array<{ content: { parts: Array<{ text: string }> } }> };
    }>;
    expect(inlined.map((item) => item.metadata.key).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(inlined.map((item) => item.metadata.key)).not.toEqual(['a', 'b', 'c', 'd', 'e']);
    const sdkJob = await ai.batches.get({ name: created.name ?? '' });
    expect(sdkJob.dest?.inlinedResponses?.map((item) => item.metadata?.key).sort()).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    expect(sdkJob.dest?.inlinedResponses?.[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toMatch(
      /question/,
    );
    expect(emulator.ledger.entries().find((e) => e.key === 'c')?.promptText).toBe('Be brief.\nquestion c');
  });

  it('admits a batch by the pages of an uploaded PDF it references, not as one image', async () => {
    // 20 pages x 258 = 5160 tokens: over a 2000-token queue, though one image (258) would fit.
    const emulator = await sandbox.startEmulator({ quotas: { maxEnqueuedTokensPerModel: 2000 } });
    const dir = sandbox.tempDir('batch-pdf');
    writeFileSync(join(dir, 'doc.pdf'), pdfOf(20));
    const ai = sdkFor(emulator);
    const pdf = await ai.files.upload({
      file: join(dir, 'doc.pdf'),
      config: { mimeType: 'application/pdf' },
    });
    const parts = [
      { text: 'Summarise.' },
      { fileData: { fileUri: pdf.uri ?? '', mimeType: 'application/pdf' } },
    ];
    const inline = [{ contents: [{ role: 'user', parts }], metadata: { key: 'doc' } }];
    await expect(ai.batches.create({ model: MODEL, src: inline })).rejects.toMatchObject({ status: 429 });
    writeFileSync(
      join(dir, 'in.jsonl'),
      JSON.stringify({ key: 'doc', request: { contents: [{ role: 'user', parts }] } }) + '\n',
    );
    const input = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'jsonl' } });
    await expect(ai.batches.create({ model: MODEL, src: input.name ?? '' })).rejects.toMatchObject({
      status: 429,
    });
  });

  it('rejects an unknown input file and a body without input like Google', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    await expect(ai.batches.create({ model: MODEL, src: 'files/doesnotexist' })).rejects.toMatchObject({
      status: 403,
    });
    const response = await fetch(`${emulator.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ batch: { displayName: 'x' } }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
  });

  // Google's JSON parser takes each field in camelCase or in its proto name (snake_case), and the
  // SDK itself sends `inputConfig.file_name` for embeddings batches (contract §0.10); the emulator
  // refused a snake_case create body with 400 "Request must contain batch.inputConfig.".
  it('creates a batch from a snake_case body (input_config.file_name, display_name) as from camelCase', async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    const emulator = await sandbox.startEmulator({ realNow: () => now, turnaroundMs: 60_000 });
    const ai = sdkFor(emulator);
    const dir = sandbox.tempDir('snake');
    writeFileSync(join(dir, 'in.jsonl'), `${inputLine('a', 'one')}\n${inputLine('b', 'two')}\n`);
    const file = await ai.files.upload({ file: join(dir, 'in.jsonl'), config: { mimeType: 'text/plain' } });
    const create = async (batch: unknown) => {
      const response = await fetch(`${emulator.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
        body: JSON.stringify({ batch }),
      });
      return { status: response.status, body: (await response.json()) as { name: string } };
    };
    const snake = await create({ display_name: 'nightly', input_config: { file_name: file.name } });
    const mixed = await create({
      displayName: 'inline',
      input_config: { requests: { requests: [{ request: { contents: [{ parts: [{ text: 'x' }] }] } }] } },
    });
    expect([snake.status, mixed.status]).toEqual([200, 200]);
    now += 60_000;
    const job = await ai.batches.get({ name: snake.body.name });
    expect(job).toMatchObject({ displayName: 'nightly', state: JobState.JOB_STATE_SUCCEEDED });
    expect(job.dest?.fileName).toMatch(/^files\/batch-/);
    expect((await ai.batches.get({ name: mixed.body.name })).dest?.inlinedResponses).toHaveLength(1);
  });

  // Google's JSON leaves out a field at its default, an empty string too; the emulator sent
  // `displayName: ""` for a job created without one, which the SDK handed on as "".
  it('leaves displayName out of a job created without one', async () => {
    const emulator = await sandbox.startEmulator({ turnaroundMs: 3_600_000 });
    const ai = sdkFor(emulator);
    const job = await ai.batches.create({ model: MODEL, src: [{ contents: 'unnamed' }] });
    expect(job.displayName).toBeUndefined();
    const { body } = await rawGet(emulator, job.name ?? '');
    expect(body.metadata).not.toHaveProperty('displayName');
    const named = await ai.batches.create({
      model: MODEL,
      src: [{ contents: 'x' }],
      config: { displayName: 'n' },
    });
    expect((await ai.batches.get({ name: named.name ?? '' })).displayName).toBe('n');
  });

  it('lists across pages, cancels and deletes', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 1, turnaroundMs: 3_600_000 });
    const ai = sdkFor(emulator);
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      const src = [{ contents: [{ role: 'user', parts: [{ text: `q${i}` }] }], metadata: { key: `k${i}` } }];
      names.push(
        (await ai.batches.create({ model: MODEL, src, config: { displayName: `job-${i}` } })).name ?? '',
      );
    }
    const pages: number[] = [];
    const page = await fetch(`${emulator.url}/v1beta/batches?pageSize=3`, {
      headers: { 'x-goog-api-key': 'k' },
    });
    const first = (await page.json()) as { operations: unknown[]; nextPageToken: string };
    expect(first.operations).toHaveLength(3);
    expect(first.nextPageToken).toBeTruthy();
    const listed: string[] = [];
    const pager = await ai.batches.list({ config: { pageSize: 3 } });
    pages.push(pager.pageLength);
    for await (const job of pager) listed.push(job.displayName ?? '');
    expect(listed).toEqual(['job-6', 'job-5', 'job-4', 'job-3', 'job-2', 'job-1', 'job-0']);

    await ai.batches.cancel({ name: names[2] ?? '' });
    const cancelled = await rawGet(emulator, names[2] ?? '');
    expect(cancelled.body).toMatchObject({ done: true, metadata: { state: 'BATCH_STATE_CANCELLED' } });
    expect((cancelled.body.metadata as Record<string, unknown>).endTime).toBeTruthy();

    await ai.batches.delete({ name: names[3] ?? '' });
    expect((await rawGet(emulator, names[3] ?? '')).status).toBe(404);
    const after: string[] = [];
    for await (const job of await ai.batches.list({ config: { pageSize: 4 } })) after.push(job.name ?? '');
    expect(after).toHaveLength(6);
    expect(after).not.toContain(names[3]);
    expect(emulator.ledger.entries()).toHaveLength(0); // nothing processed, nothing billed
  });
});

/** A minimal PDF with `pages` page objects. */
function pdfOf(pages: number): string {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  const objects = [
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    `2 0 obj << /Type /Pages /Kids [${kids}] /Count ${pages} >> endobj`,
    ...Array.from({ length: pages }, (_, i) => `${i + 3} 0 obj << /Type /Page /Parent 2 0 R >> endobj`),
  ];
  return `%PDF-1.4\n${objects.join('\n')}\n%%EOF\n`;
}
