import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGeminiClient,
  OneoffInputError,
  startEmulator,
  submitJob,
  WavebatchError,
  type BatchJobInfo,
  type GeminiClient,
  type RunningEmulator,
} from '../../src/index.js';

const MODEL = 'gemini-2.5-flash';
const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

// The product's library promises `submit`: a one-off job (wavebatch submit) from a program. The
// package had only the command; a program had to rebuild its request checks, inline-or-upload choice
// and SDK conversion over createGeminiClient itself.
describe('submitJob: a one-off batch job from code', () => {
  let emulator: RunningEmulator;
  let client: GeminiClient;
  let dir: string;

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 11 });
    client = createGeminiClient({ apiKey: 'submit-job-key', baseUrl: emulator.url });
    dir = await mkdtemp(join(tmpdir(), 'wb-submit-job-'));
  });
  afterEach(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Polls the job (bounded) until it has ended. */
  async function ended(name: string): Promise<BatchJobInfo> {
    for (let tries = 0; tries < 400; tries++) {
      const job = await client.getBatch(name);
      if (!['pending', 'running'].includes(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${name} did not end`);
  }

  it('sends requests given in code inline, and a file by upload, each billed once under its key', async () => {
    const job = await submitJob(client, {
      model: MODEL,
      requests: [{ key: 'greeting', request: ask('Say hello') }, ask('Say goodbye')],
    });
    expect(job).toMatchObject({ displayName: 'wavebatch-submit' });
    const done = await ended(job.name);
    expect(done.state).toBe('succeeded');
    expect(done.inlinedResponses?.map((result) => result.key).sort()).toEqual(['greeting', 'request-2']);

    const file = join(dir, 'nightly.jsonl');
    await writeFile(file, `${JSON.stringify({ key: 'from-file', request: ask('Count to three') })}\n`);
    const uploaded = await submitJob(client, { model: MODEL, requests: file, transport: 'upload' });
    expect(uploaded.displayName).toBe('wavebatch-submit-nightly');
    expect((await ended(uploaded.name)).resultsFileName).toMatch(/^files\//);

    const billed = emulator.ledger.entries().map((entry) => [entry.batchName, entry.key]);
    expect(billed.sort()).toEqual(
      [
        [job.name, 'greeting'],
        [job.name, 'request-2'],
        [uploaded.name, 'from-file'],
      ].sort(),
    );
  });

  it('refuses a malformed request by its place, with a stable code, before anything is sent', async () => {
    const refused = await submitJob(client, {
      model: MODEL,
      requests: [ask('fine'), { contents: [] }],
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OneoffInputError);
    expect(WavebatchError.isInstance(refused) && refused.code).toBe('INPUT_INVALID');
    expect((refused as Error).message).toContain('requests[1]: a request needs a non-empty "contents" array');
    const jobs: string[] = [];
    for await (const job of client.listBatches()) jobs.push(job.name);
    expect(jobs).toEqual([]);
    expect(emulator.ledger.entries()).toEqual([]);
  });

  // A refused create left the uploaded JSONL in the user's Files storage until it expired (48 h).
  it('deletes the uploaded file of a job whose create the API refused', async () => {
    emulator.setFaults({ http: [{ kind: 'status_400', match: 'create', count: 1 }] });
    const file = join(dir, 'refused.jsonl');
    await writeFile(file, `${JSON.stringify({ key: 'k', request: ask('Count to three') })}\n`);
    const refused = await submitJob(client, { model: MODEL, requests: file, transport: 'upload' }).catch(
      (error: unknown) => error,
    );
    expect(WavebatchError.isInstance(refused) && refused.code).toBe('INVALID_ARGUMENT');
    expect(emulator.httpFaultsFired()).toEqual([1]);
    expect(emulator.heldFiles()).toEqual([]);
  });
});
