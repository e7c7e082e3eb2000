import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
  type WireGenerateRequest,
} from '../../src/emulator/index.js';
import {
  buildModelRequest,
  createGeminiClient,
  GeminiApiError,
  toBatchFileLine,
  toInlinedRequest,
  type BatchJobInfo,
  type GeminiClient,
} from '../../src/gemini/index.js';
import { startFakeGoogle, type FakeGoogle } from './fake-google.js';

const KEY = 'AIzaFAKE-wavebatch-test-key-5d1e9a';
const MODEL = 'gemini-2.5-flash';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-client-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sampleRequests() {
  const a = await buildModelRequest({
    promptText: 'first',
    systemText: 'sys',
    generationConfig: { temperature: 0 },
  });
  const b = await buildModelRequest({
    promptText: 'second',
    responseJsonSchema: { type: 'object', properties: { title: { type: 'string' } } },
  });
  return { a, b };
}

/** Polls getBatch (bounded) until the job has ended. */
async function untilDone(client: GeminiClient, name: string): Promise<BatchJobInfo> {
  for (let i = 0; i < 1000; i++) {
    const job = await client.getBatch(name);
    if (job.state !== 'pending' && job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${name} did not finish`);
}

describe('GeminiClient against the emulator', () => {
  let emulator: RunningEmulator;
  let client: GeminiClient;
  /** The wire requests the emulator's model received, by key. */
  let received: Map<string, WireGenerateRequest>;

  async function start(options: EmulatorOptions = {}): Promise<void> {
    received = new Map();
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 60_000,
      responder: (call) => void received.set(call.key ?? '', call.request),
      ...options,
    });
    client = createGeminiClient({ apiKey: KEY, baseUrl: emulator.url, timeoutMs: 5_000 });
  }
  afterEach(async () => {
    await emulator.close();
  });

  it('uploads a JSONL file, creates a file job, reads its counts and downloads the results atomically', async () => {
    await start();
    const { a, b } = await sampleRequests();
    const input = join(dir, 'in.jsonl');
    await writeFile(input, `${toBatchFileLine('a', a)}\n${toBatchFileLine('b', b)}\n`);
    const file = await client.uploadJsonl(input, 'job-1');
    expect(file.name).toMatch(/^files\//);
    expect(file.sizeBytes).toBe((await readFile(input)).length);
    expect(await client.getFile(file.name)).toMatchObject({ name: file.name, state: 'ACTIVE' });

    const created = await client.createBatch({
      model: MODEL,
      displayName: 'job-1',
      source: { fileName: file.name },
    });
    expect(created).toMatchObject({ displayName: 'job-1', state: 'pending', model: `models/${MODEL}` });
    const done = await untilDone(client, created.name);
    expect(done.state).toBe('succeeded');
    expect(done.resultsFileName).toMatch(/^files\//);
    expect(done.stats).toEqual({ requestCount: 2, successfulRequestCount: 2 });
    expect(received.get('a')).toEqual((JSON.parse(toBatchFileLine('a', a)) as { request: unknown }).request);

    const dest = join(dir, 'out.jsonl');
    await client.downloadFile(done.resultsFileName ?? '', dest);
    const keys = (await readFile(dest, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { key: string }).key);
    expect(keys.sort()).toEqual(['a', 'b']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('sends inline requests that reach the model exactly as the file lines do, and returns results by key', async () => {
    await start();
    const { a, b } = await sampleRequests();
    const created = await client.createBatch({
      model: MODEL,
      displayName: 'inline-1',
      source: { requests: [toInlinedRequest('a', a), toInlinedRequest('b', b)] },
    });
    const done = await untilDone(client, created.name);
    // The SDK's converter and our file-line writer must agree on the REST shape.
    for (const [key, request] of [
      ['a', a],
      ['b', b],
    ] as const) {
      expect(received.get(key)).toEqual(
        (JSON.parse(toBatchFileLine(key, request)) as { request: unknown }).request,
      );
    }
    const byKey = new Map(done.inlinedResponses?.map((r) => [r.key, JSON.stringify(r.response)]));
    expect([...byKey.keys()].sort()).toEqual(['a', 'b']);
    // The synthetic model reveals its prompt: each answer belongs to its own request.
    expect(byKey.get('a')).toContain('sys\\nfirst');
    expect(byKey.get('b')).toContain('title');
  });

  it('lists every page newest first, cancels and deletes', async () => {
    await start({ turnaroundMs: 3_600_000, timeScale: 1 });
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { a } = await sampleRequests();
      names.push(
        (
          await client.createBatch({
            model: MODEL,
            displayName: `j${i}`,
            source: { requests: [toInlinedRequest('a', a)] },
          })
        ).name,
      );
    }
    const seen: string[] = [];
    for await (const job of client.listBatches({ pageSize: 2 })) seen.push(job.displayName ?? '');
    expect(seen).toEqual(['j4', 'j3', 'j2', 'j1', 'j0']);

    const first = names[0] ?? '';
    await client.cancelBatch(first);
    expect((await client.getBatch(first)).state).toBe('cancelled');
    await client.deleteBatch(first);
    await expect(client.getBatch(first)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      retryable: false,
    });
  });

  it('returns null for a missing file and deletes files', async () => {
    await start();
    expect(await client.getFile('files/nope')).toBeNull();
    const input = join(dir, 'in.jsonl');
    await writeFile(input, `${toBatchFileLine('a', (await sampleRequests()).a)}\n`);
    const file = await client.uploadJsonl(input, 'x');
    await client.deleteFile(file.name);
    expect(await client.getFile(file.name)).toBeNull();
  });

  it('uploads a media file with its type and URI, for fileData parts that the model and countTokens accept', async () => {
    await start();
    const image = join(dir, 'scan.png');
    await writeFile(image, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const file = await client.uploadFile(image, 'image/png', 'scan');
    expect(file).toMatchObject({
      name: expect.stringMatching(/^files\//),
      mimeType: 'image/png',
      sizeBytes: 7,
    });
    expect(file.uri).toBe(`${emulator.url}/v1beta/${file.name}`);
    expect(Date.parse(file.expiresAt ?? '') - Date.parse(file.createdAt ?? '')).toBe(48 * 3600_000);
    expect(await client.getFile(file.name)).toMatchObject({ name: file.name, uri: file.uri });
    const request = {
      contents: [
        {
          role: 'user',
          parts: [{ text: 'abcd' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }],
        },
      ],
    };
    expect(await client.countTokens(MODEL, request)).toBe(1 + 258);
    expect(await client.generateContent(MODEL, request)).toMatchObject({
      usageMetadata: { promptTokenCount: 1 + 258 },
    });
  });

  it('counts tokens including the system instruction', async () => {
    await start();
    const bare = await buildModelRequest({ promptText: 'hello there' });
    const withSystem = await buildModelRequest({
      promptText: 'hello there',
      systemText: 'You are a careful archivist of course catalogs.',
    });
    const bareCount = await client.countTokens(MODEL, bare);
    expect(bareCount).toBeGreaterThan(0);
    expect(await client.countTokens(MODEL, withSystem)).toBeGreaterThan(bareCount);
  });

  it('maps a quota refusal, a missing job and an unreachable server to typed errors without the key', async () => {
    await start({ quotas: { maxConcurrentBatchJobs: 1 }, turnaroundMs: 3_600_000, timeScale: 1 });
    const { a } = await sampleRequests();
    const create = () =>
      client.createBatch({
        model: MODEL,
        displayName: 'q',
        source: { requests: [toInlinedRequest('a', a)] },
      });
    await create();
    const quota = await create().catch((e: unknown) => e);
    expect(quota).toBeInstanceOf(GeminiApiError);
    expect(quota).toMatchObject({ code: 'QUOTA_EXHAUSTED', status: 429, retryable: true });
    expect((quota as GeminiApiError).retryDelayMs).toBeGreaterThan(0);
    const notFound = await client.getBatch('batches/missing').catch((e: unknown) => e);
    expect(notFound).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false });
    const unreachable = await createGeminiClient({
      apiKey: KEY,
      baseUrl: 'http://127.0.0.1:9',
      timeoutMs: 2_000,
    })
      .getBatch('batches/x')
      .catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'NETWORK', retryable: true });
    for (const e of [quota, notFound, unreachable]) {
      expect(`${String(e)} ${JSON.stringify(e)} ${(e as Error).stack ?? ''}`).not.toContain(KEY);
    }
  });
});

describe('GeminiClient wire requests (recording fake)', () => {
  let google: FakeGoogle;
  let client: GeminiClient;
  beforeEach(async () => {
    google = await startFakeGoogle();
    client = createGeminiClient({ apiKey: KEY, baseUrl: google.url, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    await google.close();
  });

  it('creates jobs with the REST path and body, the key only in the x-goog-api-key header', async () => {
    const created = await client.createBatch({
      model: MODEL,
      displayName: 'job-1',
      source: { fileName: 'files/abc' },
    });
    expect(created).toMatchObject({ name: 'batches/b1', displayName: 'job-1', state: 'pending' });
    const { a } = await sampleRequests();
    await client.createBatch({
      model: MODEL,
      displayName: 'inline-1',
      source: { requests: [toInlinedRequest('a', a)] },
    });

    const [fileCall, inlineCall] = google.requests;
    expect(fileCall).toMatchObject({ method: 'POST', path: `/v1beta/models/${MODEL}:batchGenerateContent` });
    expect(JSON.parse(fileCall?.body ?? '{}')).toEqual({
      batch: { displayName: 'job-1', inputConfig: { fileName: 'files/abc' } },
    });
    const line = JSON.parse(toBatchFileLine('a', a)) as { key: string; request: unknown };
    expect(JSON.parse(inlineCall?.body ?? '{}')).toEqual({
      batch: {
        displayName: 'inline-1',
        inputConfig: { requests: { requests: [{ request: line.request, metadata: { key: 'a' } }] } },
      },
    });
    for (const call of google.requests) {
      expect(call.headers['x-goog-api-key']).toBe(KEY);
      expect(call.query.toString()).not.toContain(KEY);
    }
  });

  it("reads Google's 403 for a file that may not exist as gone, but not a 403 for a bad key", async () => {
    google.failNext('/files/expired', 403, {
      error: {
        code: 403,
        status: 'PERMISSION_DENIED',
        message: 'You do not have permission to access the File expired or it may not exist.',
      },
    });
    expect(await client.getFile('files/expired')).toBeNull();
    google.failNext('/files/other', 403, {
      error: { code: 403, status: 'PERMISSION_DENIED', message: 'API key not valid.' },
    });
    await expect(client.getFile('files/other')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('reads RetryInfo from a 429 and scrubs the key when a server echoes it', async () => {
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
    expect(error).toMatchObject({
      code: 'QUOTA_EXHAUSTED',
      status: 429,
      retryDelayMs: 12_000,
      retryable: true,
    });
    const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
    expect(text).toContain('Quota exceeded for key');
    expect(text).not.toContain(KEY);
  });
});
