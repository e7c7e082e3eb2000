import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { resolveOptions } from '../../src/emulator/options.js';
import { emulatorSandbox, inputLine, pollUntilDone, refusalOf, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';
const HOUR = 3600_000;

const inline = (keys: string[]) =>
  keys.map((key) => ({ contents: [{ role: 'user', parts: [{ text: `about ${key}` }] }], metadata: { key } }));

/** Uploads `keys` as a JSONL batch input and runs a file job to its end; returns its results lines. */
async function fileJob(
  sandbox: { tempDir(prefix: string): string },
  emulator: RunningEmulator,
  ai: GoogleGenAI,
  keys: string[],
): Promise<{ state: unknown; lines: Array<{ key: string; response?: unknown; error?: { code: number } }> }> {
  const path = join(sandbox.tempDir('failures'), 'in.jsonl');
  writeFileSync(path, keys.map((key) => inputLine(key, `about ${key}`)).join('\n') + '\n');
  const input = await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
  const job = await ai.batches.create({ model: MODEL, src: input.name ?? '' });
  await pollUntilDone(emulator, job.name ?? '');
  const done = await ai.batches.get({ name: job.name ?? '' });
  const out = join(sandbox.tempDir('failures-out'), 'results.jsonl');
  await ai.files.download({ file: done.dest?.fileName ?? '', downloadPath: out });
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: { code: number } });
  return { state: done.state, lines };
}

describe('emulator: failures users report, on demand', () => {
  const sandbox = emulatorSandbox();

  it('keeps a job PENDING until it expires (job_stuck by rate), never RUNNING, unbilled', async () => {
    // The emulated clock is the test's, an hour a look: at a time scale, a loaded machine's slow
    // first look could come after the 48 hours had passed (at 1,000,000x they were 173 real ms).
    let now = Date.parse('2026-05-01T00:00:00Z');
    const emulator = await sandbox.startEmulator({
      realNow: () => now,
      turnaroundMs: 60_000,
      jobExpiryMs: 48 * HOUR,
      faults: { jobRates: { stuck: 1 } },
    });
    const ai = sdkFor(emulator);
    const job = await ai.batches.create({ model: MODEL, src: inline(['a']) });
    const states = new Set<string>();
    let current = await ai.batches.get({ name: job.name ?? '' });
    while (current.state === 'JOB_STATE_PENDING' || current.state === 'JOB_STATE_RUNNING') {
      states.add(current.state);
      now += HOUR;
      current = await ai.batches.get({ name: job.name ?? '' });
    }
    expect([...states]).toEqual(['JOB_STATE_PENDING']);
    expect(current.state).toBe('JOB_STATE_EXPIRED');
    expect(Date.parse(current.endTime ?? '') - Date.parse(job.createTime ?? '')).toBe(48 * HOUR);
    expect(emulator.ledger.entries()).toEqual([]);
  });

  it('answers 429 on batch create while under every limit, and on list; nothing is created by a refusal', async () => {
    const emulator = await sandbox.startEmulator({
      faults: {
        http: [
          { kind: 'status_429', match: 'create', count: 1 },
          { kind: 'status_429', match: 'list', count: 1 },
        ],
      },
    });
    const ai = sdkFor(emulator);
    const refused = await refusalOf(ai.batches.create({ model: MODEL, src: inline(['a']) }));
    expect(refused).toEqual({
      status: 429,
      body: {
        error: {
          code: 429,
          message: 'Resource has been exhausted (e.g. check quota).',
          status: 'RESOURCE_EXHAUSTED',
        },
      },
    });
    await expect(ai.batches.list()).rejects.toMatchObject({ status: 429 });
    const created = await ai.batches.create({ model: MODEL, src: inline(['a']) });
    const listed = [];
    for await (const job of await ai.batches.list()) listed.push(job.name);
    expect(listed).toEqual([created.name]);
  });

  it('leaves rows out of a results file (unbilled) and writes others twice (billed once)', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const missing = await sandbox.startEmulator({
      timeScale: 100_000,
      turnaroundMs: 60_000,
      seed: 3,
      faults: { rowRates: { missing: 0.25 } },
    });
    const lost = await fileJob(sandbox, missing, sdkFor(missing), keys);
    expect(lost.state).toBe('JOB_STATE_SUCCEEDED');
    expect(lost.lines.length).toBeGreaterThan(20);
    expect(lost.lines.length).toBeLessThan(40);
    expect(
      missing.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(lost.lines.map((line) => line.key).sort());

    const twice = await sandbox.startEmulator({
      timeScale: 100_000,
      turnaroundMs: 60_000,
      seed: 3,
      faults: { rowRates: { duplicated: 0.25 } },
    });
    const doubled = await fileJob(sandbox, twice, sdkFor(twice), keys);
    expect(doubled.lines.length).toBeGreaterThan(40);
    expect(new Set(doubled.lines.map((line) => line.key)).size).toBe(40);
    expect(twice.ledger.entries()).toHaveLength(40);
  });

  it('ends a job SUCCEEDED with every row failed (gRPC 13), unbilled', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: 100_000,
      turnaroundMs: 60_000,
      faults: { jobSequence: ['job_rows_failed'] },
    });
    const { state, lines } = await fileJob(sandbox, emulator, sdkFor(emulator), ['a', 'b', 'c']);
    expect(state).toBe('JOB_STATE_SUCCEEDED');
    expect(lines.map((line) => line.error?.code)).toEqual([13, 13, 13]);
    expect(lines.every((line) => line.response === undefined)).toBe(true);
    expect(emulator.ledger.entries()).toEqual([]);
  });

  it('returns inline responses without metadata (js-genai#1191) when asked', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: 100_000,
      turnaroundMs: 60_000,
      faults: { jobSequence: ['job_no_metadata', 'none'] },
    });
    const ai = sdkFor(emulator);
    const responsesOf = async () => {
      const job = await ai.batches.create({ model: MODEL, src: inline(['a', 'b']) });
      await pollUntilDone(emulator, job.name ?? '');
      return (await ai.batches.get({ name: job.name ?? '' })).dest?.inlinedResponses ?? [];
    };
    const bare = await responsesOf();
    expect(bare).toHaveLength(2);
    expect(bare.every((item) => item.metadata === undefined && item.response !== undefined)).toBe(true);
    const normal = await responsesOf();
    expect(normal.map((item) => item.metadata?.key).sort()).toEqual(['a', 'b']);
  });

  it('refuses an upload declared as bare jsonl when asked, and takes text/plain', async () => {
    const emulator = await sandbox.startEmulator({ faults: { refuseMimeTypes: ['jsonl'] } });
    const ai = sdkFor(emulator);
    const path = join(sandbox.tempDir('mime'), 'in.jsonl');
    writeFileSync(path, `${inputLine('a', 'hello')}\n`);
    const refused = await refusalOf(ai.files.upload({ file: path, config: { mimeType: 'jsonl' } }));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message: 'Unsupported MIME type: jsonl',
    });
    const accepted = await ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
    expect(accepted.state).toBe('ACTIVE');
  });

  it('keeps an upload PROCESSING until it expires (upload_stuck); requests using it are refused', async () => {
    // The test holds the clock: time moves only when it says so.
    let realNow = Date.UTC(2026, 0, 1);
    const emulator = await sandbox.startEmulator({
      realNow: () => realNow,
      faults: { fileRates: { stuck_processing: 1 } },
    });
    const ai = sdkFor(emulator);
    const path = join(sandbox.tempDir('stuck'), 'page.png');
    writeFileSync(path, Buffer.from('89504e470d0a1a0a', 'hex'));
    const file = await ai.files.upload({ file: path, config: { mimeType: 'image/png' } });
    for (const hours of [0, 1, 24, 47]) {
      realNow = Date.UTC(2026, 0, 1) + hours * HOUR;
      expect((await ai.files.get({ name: file.name ?? '' })).state).toBe('PROCESSING');
    }
    const used = await refusalOf(
      ai.models.generateContent({
        model: MODEL,
        contents: [
          { role: 'user', parts: [{ fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }] },
        ],
      }),
    );
    expect([used.status, used.body.error.status]).toEqual([400, 'FAILED_PRECONDITION']);
  });

  it('refuses uploads over the project storage quota with 429 FileStorageBytesPerProject until files go', async () => {
    const emulator = await sandbox.startEmulator({ quotas: { fileStorageBytes: 1_000 } });
    const ai = sdkFor(emulator);
    const dir = sandbox.tempDir('storage');
    const upload = (name: string, bytes: number) => {
      const path = join(dir, name);
      writeFileSync(path, 'x'.repeat(bytes));
      return ai.files.upload({ file: path, config: { mimeType: 'text/plain' } });
    };
    const first = await upload('a.txt', 600);
    // The limit is the last byte a project may hold: 600 + 400 fills it exactly, one byte more is refused.
    expect((await upload('b.txt', 400)).state).toBe('ACTIVE');
    const full = await refusalOf(upload('one-more-byte.txt', 1));
    expect(full.status).toBe(429);
    expect(full.body.error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      message: expect.stringContaining('file_storage_bytes, limit: 1000'),
      details: expect.arrayContaining([
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/file_storage_bytes',
              quotaId: 'FileStorageBytesPerProject',
              quotaValue: '1000',
            },
          ],
        },
      ]),
    });
    await ai.files.delete({ name: first.name ?? '' });
    expect((await upload('c.txt', 600)).state).toBe('ACTIVE');
    expect((await refusalOf(upload('d.txt', 1))).status).toBe(429);
  });

  // Google's docs say "20 GB" a project; the 429 of a full project gives its quotaValue in bytes,
  // 21474836480 (alphaXiv/feedback#16): 20 GiB, the emulator's default.
  it("holds by default Google's 20 GB as its 429 counts them: 21,474,836,480 bytes", () => {
    expect(resolveOptions().quotas.fileStorageBytes).toBe(21_474_836_480);
  });
});
