import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildModelRequest,
  createGeminiClient,
  GeminiApiError,
  toBatchFileLine,
  toInlinedRequest,
  type GeminiClient,
} from '../../src/gemini/index.js';
import { startFakeGoogle, type FakeGoogle } from './fake-google.js';

const KEY = 'AIzaFAKE-wavebatch-test-key-5d1e9a';

let google: FakeGoogle;
let client: GeminiClient;
let dir: string;

beforeEach(async () => {
  google = await startFakeGoogle();
  client = createGeminiClient({ apiKey: KEY, baseUrl: google.url, timeoutMs: 5_000 });
  dir = await mkdtemp(join(tmpdir(), 'wb-client-'));
});
afterEach(async () => {
  await google.close();
  await rm(dir, { recursive: true, force: true });
});

async function sampleLines(): Promise<string[]> {
  const a = await buildModelRequest({ promptText: 'first', systemText: 'sys', generationConfig: { temperature: 0 } });
  const b = await buildModelRequest({ promptText: 'second', responseJsonSchema: { type: 'object' } });
  return [toBatchFileLine('a', a), toBatchFileLine('b', b)];
}

describe('GeminiClient over HTTP', () => {
  it('uploads a JSONL file, creates a file job, reads stats, downloads results atomically', async () => {
    const input = join(dir, 'in.jsonl');
    await writeFile(input, `${(await sampleLines()).join('\n')}\n`);
    const file = await client.uploadJsonl(input, 'job-1');
    expect(file.name).toMatch(/^files\//);
    expect(file.sizeBytes).toBeGreaterThan(0);
    expect(await client.getFile(file.name)).toMatchObject({ name: file.name, state: 'ACTIVE' });

    const created = await client.createBatch({ model: 'gemini-2.5-flash', displayName: 'job-1', source: { fileName: file.name } });
    expect(created).toMatchObject({ displayName: 'job-1', state: 'pending' });
    const createCall = google.requests.find((r) => r.path.endsWith(':batchGenerateContent'));
    expect(createCall?.path).toBe('/v1beta/models/gemini-2.5-flash:batchGenerateContent');
    expect(JSON.parse(createCall?.body ?? '{}')).toEqual({ batch: { displayName: 'job-1', inputConfig: { fileName: file.name } } });

    google.succeed(created.name);
    const done = await client.getBatch(created.name);
    expect(done.state).toBe('succeeded');
    expect(done.resultsFileName).toMatch(/^files\//);
    expect(done.stats).toEqual({ requestCount: 0, successfulRequestCount: 0 });

    const dest = join(dir, 'out.jsonl');
    await client.downloadFile(done.resultsFileName ?? '', dest);
    const keys = (await readFile(dest, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key);
    expect(keys.sort()).toEqual(['a', 'b']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('sends inline requests with the same request body as the file line, and matches results by key', async () => {
    const a = await buildModelRequest({ promptText: 'first', systemText: 'sys', generationConfig: { temperature: 0 } });
    const b = await buildModelRequest({ promptText: 'second', responseJsonSchema: { type: 'object' } });
    const created = await client.createBatch({
      model: 'gemini-2.5-flash',
      displayName: 'inline-1',
      source: { requests: [toInlinedRequest('a', a), toInlinedRequest('b', b)] },
    });
    const sent = JSON.parse(google.requests.at(-1)?.body ?? '{}') as {
      batch: { inputConfig: { requests: { requests: Array<{ request: unknown; metadata: unknown }> } } };
    };
    const wire = sent.batch.inputConfig.requests.requests;
    // The SDK's converter and our file-line writer must agree on the REST shape.
    const line = JSON.parse(toBatchFileLine('a', a)) as { key: string; request: unknown };
    expect(wire[0]).toEqual({ request: line.request, metadata: { key: line.key } });
    expect(wire.map((r) => r.request)).toEqual([a, b].map((r, i) => (JSON.parse(toBatchFileLine(String(i), r)) as { request: unknown }).request));

    google.succeed(created.name);
    const done = await client.getBatch(created.name);
    expect(done.inlinedResponses?.map((r) => r.key)).toEqual(['b', 'a']);
    expect(JSON.stringify(done.inlinedResponses?.[0]?.response)).toContain('answer b');
  });

  it('lists every page, cancels and deletes', async () => {
    for (let i = 0; i < 5; i++) {
      await client.createBatch({ model: 'm', displayName: `j${i}`, source: { fileName: 'files/x' } });
    }
    const seen: string[] = [];
    for await (const job of client.listBatches({ pageSize: 2 })) seen.push(job.displayName ?? '');
    expect(seen).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
    expect(google.requests.filter((r) => r.path === '/v1beta/batches')).toHaveLength(3);

    const first = [...google.batches.keys()][0] ?? '';
    await client.cancelBatch(first);
    expect((await client.getBatch(first)).state).toBe('cancelled');
    await client.deleteBatch(first);
    await expect(client.getBatch(first)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false });
  });

  it('returns null for a missing file and deletes files', async () => {
    expect(await client.getFile('files/nope')).toBeNull();
    const input = join(dir, 'in.jsonl');
    await writeFile(input, '{}\n');
    const file = await client.uploadJsonl(input, 'x');
    await client.deleteFile(file.name);
    expect(await client.getFile(file.name)).toBeNull();
  });

  it('counts tokens including the system instruction', async () => {
    const request = await buildModelRequest({ promptText: 'hello', systemText: 'be kind' });
    expect(await client.countTokens('gemini-2.5-flash', request)).toBeGreaterThan(0);
    const body = google.requests.at(-1)?.body ?? '';
    expect(body).toContain('be kind');
    expect(body).toContain('hello');
  });

  it('maps a 429 with RetryInfo and keeps the key out of every error', async () => {
    google.failNext(':batchGenerateContent', 429, {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: `Quota exceeded for key ${KEY}`,
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' }],
      },
    });
    const error = await client
      .createBatch({ model: 'm', displayName: 'q', source: { fileName: 'files/x' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GeminiApiError);
    expect(error).toMatchObject({ code: 'QUOTA_EXHAUSTED', status: 429, retryDelayMs: 12_000, retryable: true });
    const notFound = await client.getBatch('batches/missing').catch((e: unknown) => e);
    const unreachable = await createGeminiClient({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', timeoutMs: 2_000 })
      .getBatch('batches/x')
      .catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'NETWORK', retryable: true });
    for (const e of [error, notFound, unreachable]) {
      const text = `${String(e)} ${JSON.stringify(e)} ${(e as Error).stack ?? ''}`;
      expect(text).not.toContain(KEY);
    }
    // The key went only in the header, never in a URL.
    expect(google.requests.every((r) => !r.query.toString().includes(KEY))).toBe(true);
    expect(google.requests[0]?.headers['x-goog-api-key']).toBe(KEY);
  });
});
