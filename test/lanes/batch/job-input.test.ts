import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGeminiClient, startEmulator, type RunningEmulator } from '../../../src/index.js';
import { uploadJobInput } from '../../../src/lanes/batch/job-input.js';

// The batch lane and one-off `submit` each wrote and uploaded a job's JSONL their own way: this is
// the one way now, and what reaches the API is the lines as given.
describe('uploadJobInput', () => {
  let emulator: RunningEmulator;
  let dir: string;
  beforeEach(async () => {
    emulator = await startEmulator({ seed: 2 });
    dir = await mkdtemp(join(tmpdir(), 'wb-job-input-'));
  });
  afterEach(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads the lines streamed from a generator, tells their bytes, and leaves no local file', async () => {
    const client = createGeminiClient({ apiKey: 'job-input-key', baseUrl: emulator.url });
    const lines = ['{"key":"a","request":{"contents":[]}}', '{"key":"b","request":{"contents":[]}}'];
    async function* streamed(): AsyncGenerator<string> {
      yield* lines;
    }
    const path = join(dir, 'job.jsonl');
    let told = -1;
    const uploaded = await uploadJobInput(client, path, streamed(), 'job-1', (bytes) => {
      told = bytes;
    });
    const expected = `${lines.join('\n')}\n`;
    expect(uploaded.bytes).toBe(Buffer.byteLength(expected));
    expect(told).toBe(uploaded.bytes);
    expect((await emulator.storedFile(uploaded.file.name))?.toString('utf8')).toBe(expected);
    expect(existsSync(path)).toBe(false);
  });

  it('removes the local file when the upload fails', async () => {
    const client = createGeminiClient({ apiKey: 'job-input-key', baseUrl: 'http://127.0.0.1:9' });
    const path = join(dir, 'job.jsonl');
    await expect(uploadJobInput(client, path, ['{"key":"a"}'], 'job-1')).rejects.toThrow();
    expect(existsSync(path)).toBe(false);
  });
});
