import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../src/gemini/index.js';
import { MediaUploader } from '../../src/media/index.js';
import {
  createRemoteJob,
  INPUT_REUSE_MAX_AGE_MS,
  type JobCreationDeps,
} from '../../src/lanes/batch/job-creation.js';
import { FAST_RETRY } from '../fixtures/session.js';
import { batchSettings, pageRequests, storeWithRecord } from '../fixtures/one-record-job.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import type { WorkloadRecord } from '../../src/workload/record.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { writeNoisePng } from '../media/png.js';

const HOUR = 3600_000;
const JOB_ID = 'wb-scans-input-reuse';

/**
 * One record with a large scan in a file job whose create keeps failing (503, as often as one call
 * retries): the intent keeps its uploaded JSONL, as after a crash between upload and create.
 */
async function intentWithUploadedInput(sandbox: ReturnType<typeof emulatorSandbox>) {
  const emulator = await sandbox.startEmulator({
    seed: 9,
    turnaroundMs: 10 * HOUR,
    faults: { http: [{ kind: 'status_503', match: 'create', count: FAST_RETRY.maxAttempts }] },
  });
  const root = sandbox.tempDir('input-reuse');
  const scan = join(root, 'scan.png');
  writeNoisePng(scan, 120, 120, 4);
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const record: WorkloadRecord = {
    id: 'p1',
    chainId: 'p1',
    position: 0,
    vars: {},
    media: [{ path: scan, mimeType: 'image/png' }],
  };
  const store = await storeWithRecord(root, record, () => new Date(clock));
  const api = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
  const uploader = new MediaUploader({ api, cache: store, now: () => clock });
  const events: RunnerEvent[] = [];
  const deps: JobCreationDeps = {
    store,
    api,
    requests: await pageRequests(root, 'Transcribe page {{ record.id }}.\n', {
      minBytes: 1000,
      fileFor: (media, file) => uploader.fileFor(media, file),
    }),
    settings: batchSettings('scans', root, emulator.url, { inlineMaxBytes: 0 }),
    clock: { now: () => clock, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    emit: (event) => events.push(event),
    now: () => clock,
  };
  await store.createJobIntent({
    id: JOB_ID,
    model: 'gemini-2.5-flash',
    kind: 'file',
    members: [{ recordId: 'p1', attempt: 0, promptHash: 'h', estimatedTokens: 300 }],
  });
  expect(await createRemoteJob(deps, (await store.getJob(JOB_ID))!)).toMatchObject({ kind: 'deferred' });
  const intent = (await store.getJob(JOB_ID))!;
  expect(intent).toMatchObject({
    state: 'intent',
    remoteName: null,
    inputFile: expect.stringMatching(/^files\//),
  });
  expect(events.map((event) => event.type)).toEqual(['warning']);
  return {
    emulator,
    root,
    store,
    api,
    deps,
    firstInput: intent.inputFile ?? '',
    advance: (ms: number) => void (clock += ms),
    /** The fileUri parts of an uploaded JSONL input. */
    fileUris: async (inputFile: string) => {
      // Uploads cannot be downloaded through the API; the emulator shows what it stored.
      const bytes = (await emulator.storedFile(inputFile))?.toString('utf8') ?? '';
      return [...bytes.matchAll(/"fileUri":"([^"]+)"/g)].map((match) => match[1]);
    },
    /** Remote jobs named after the intent. */
    remoteJobs: async () => {
      const names: string[] = [];
      for await (const job of api.listBatches()) if (job.displayName === JOB_ID) names.push(job.name);
      return names;
    },
  };
}

describe('re-creating a job intent whose JSONL input was already uploaded', () => {
  const sandbox = emulatorSandbox();

  it('reuses a JSONL uploaded less than an hour ago', async () => {
    const t = await intentWithUploadedInput(sandbox);
    t.advance(INPUT_REUSE_MAX_AGE_MS - 60_000);
    expect(await createRemoteJob(t.deps, (await t.store.getJob(JOB_ID))!)).toMatchObject({ kind: 'created' });
    expect(await t.store.getJob(JOB_ID)).toMatchObject({ state: 'pending', inputFile: t.firstInput });
    expect(await t.remoteJobs()).toHaveLength(1);
    await t.store.close();
  });

  it('rebuilds an older JSONL, which refreshes media that no longer outlive the safety margin', async () => {
    const t = await intentWithUploadedInput(sandbox);
    const [oldMedia] = await t.fileUris(t.firstInput);
    expect(oldMedia).toMatch(/\/files\//);
    // 25 h later the scan's copy has 23 h left: less than the 24 h a job may take.
    t.advance(25 * HOUR);
    expect(await createRemoteJob(t.deps, (await t.store.getJob(JOB_ID))!)).toMatchObject({ kind: 'created' });
    const job = await t.store.getJob(JOB_ID);
    expect(job).toMatchObject({ state: 'pending', remoteName: expect.stringMatching(/^batches\//) });
    expect(job?.inputFile).not.toBe(t.firstInput);
    const newMedia = await t.fileUris(job?.inputFile ?? '');
    expect(newMedia).toHaveLength(1);
    expect(newMedia[0]).not.toBe(oldMedia);
    expect(await t.remoteJobs()).toEqual([job?.remoteName]);
    await t.store.close();
  });
});
