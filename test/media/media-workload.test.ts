import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import type { FaultPlan } from '../../src/emulator/fault-plan.js';
import { createGeminiClient, TOKENS_PER_IMAGE } from '../../src/gemini/index.js';
import { systemClock } from '../../src/clock.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { openWorkloadSession, type WorkloadSessionOptions } from '../../src/runner/workload-session.js';
import { sdkFor, emulatorSandbox } from '../emulator/harness.js';
import { catalogConfigYaml } from '../fixtures/catalog-workload.js';
import { emulatedConfig, FAST_RETRY } from '../fixtures/session.js';
import { emulatorClock } from '../fixtures/emulator-clock.js';
import { writeNoisePng } from './png.js';

/** The response schema, sent as is (it uses nothing Gemini would not take) and billed as input text. */
const PAGE_SCHEMA = {
  type: 'object',
  properties: { carry_over: { type: 'string' } },
  required: ['carry_over'],
};

/** Pages whose scan is above the 50 KB upload threshold; the others are 4x4 thumbnails. */
const LARGE = ['ST/book1/1900/page_1', 'ST/book2/1900/page_2'];
const SMALL = ['ST/book1/1900/page_2', 'ST/book2/1900/page_1'];

interface SeenPart {
  text?: string;
  inlineData?: { mimeType: string };
  fileData?: { fileUri: string; mimeType: string };
}

/** Two books of two scanned pages each, one large and one small scan per book. */
function writeScanWorkload(execution: Record<string, number>): { root: string; configPath: string } {
  const root = mkdtempSync(join(tmpdir(), 'wb-media-workload-'));
  for (const [index, id] of [...LARGE, ...SMALL].entries()) {
    const path = join(root, 'dataset', `${id}.png`);
    mkdirSync(join(path, '..'), { recursive: true });
    const size = LARGE.includes(id) ? 160 : 4;
    writeNoisePng(path, size, size, index + 1); // 160x160 noise: ~77 KB
  }
  mkdirSync(join(root, 'prompts', 'page'), { recursive: true });
  writeFileSync(
    join(root, 'prompts', 'page', 'v1.jinja'),
    'Transcribe page {{ record.page }} of {{ record.school }}.\n{% if context %}Carried over: {{ context }}{% endif %}\n',
  );
  writeFileSync(join(root, 'schema.json'), JSON.stringify(PAGE_SCHEMA));
  const settings = {
    max_retries: 3,
    max_concurrent_jobs: 3,
    max_requests_per_job: 4,
    poll_interval: 20,
    media_upload_bytes: 50_000,
    ...execution,
  };
  // The catalog workload's config: its folders, prompt, context and model, with these settings.
  const yaml = catalogConfigYaml('scans', settings).join('\n');
  const configPath = join(root, 'wavebatch.yaml');
  writeFileSync(configPath, `${yaml}\n`);
  return { root, configPath };
}

/** The media files the emulator holds now (the uploader names them wb-media-...). */
async function mediaFiles(emulator: RunningEmulator): Promise<Array<{ name: string; uri: string }>> {
  const found: Array<{ name: string; uri: string }> = [];
  for await (const file of await sdkFor(emulator).files.list({ config: { pageSize: 100 } })) {
    if (file.displayName?.startsWith('wb-media-')) found.push({ name: file.name ?? '', uri: file.uri ?? '' });
  }
  return found;
}

describe('a workload of scans through the Files API, on the emulator', () => {
  let emulator: RunningEmulator | undefined;
  let root = '';
  /** Every request the model answered, by key, in order. */
  let seen: Array<{ key: string | null; parts: SeenPart[] }> = [];

  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    if (root) rmSync(root, { recursive: true, force: true });
    seen = [];
  });

  async function start(options: EmulatorOptions): Promise<RunningEmulator> {
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: { min: 30_000, max: 90_000 },
      seed: 5,
      ...options,
    });
    emulator.setResponder((call) => {
      const contents = call.request.contents as Array<{ parts: SeenPart[] }>;
      seen.push({ key: call.key, parts: contents.flatMap((content) => content.parts) });
      return undefined; // the synthetic model answers
    });
    return emulator;
  }

  async function run(configPath: string, running: RunningEmulator, options: WorkloadSessionOptions = {}) {
    const config = await emulatedConfig(configPath, running);
    const events: RunnerEvent[] = [];
    // The runner sees emulated time, as the file expiry times it compares against are emulated.
    const clock = { now: () => running.now(), sleep: systemClock.sleep };
    const session = await openWorkloadSession(config, {
      clock,
      onEvent: (event) => events.push(event),
      ...options,
    });
    try {
      return { summary: await session.runner.run(), events };
    } finally {
      await session.close();
    }
  }

  const lastRequestOf = (key: string) => [...seen].reverse().find((request) => request.key === key);
  const fileUriOf = (key: string) =>
    lastRequestOf(key)?.parts.find((part) => part.fileData)?.fileData?.fileUri;

  for (const kind of ['inline', 'file'] as const) {
    it(`references large scans by URI in ${kind} jobs, uploading each once across retries, failed jobs and re-runs`, async () => {
      const running = await start({});
      const faults: FaultPlan = {
        byKey: { [LARGE[0] as string]: ['invalid_json'] },
        jobSequence: ['job_failed'],
      };
      running.setFaults(faults);
      const workload = writeScanWorkload({ inline_max_bytes: kind === 'inline' ? 10_000_000 : 0 });
      root = workload.root;

      const { summary, events } = await run(workload.configPath, running);
      expect(summary.counts).toMatchObject({ done: 4, dead: 0, total: 4 });
      const submitted = events.flatMap((event) => (event.type === 'job-submitted' ? [event.kind] : []));
      expect(new Set(submitted)).toEqual(new Set([kind]));
      // A failed job and a retried record did happen...
      expect(events.some((event) => event.type === 'record-failed' && event.recordId === LARGE[0])).toBe(
        true,
      );
      expect(events.some((event) => event.type === 'job-state' && event.state === 'failed')).toBe(true);
      // ...and still each large scan was uploaded exactly once, and every request referenced that upload.
      const uploads = await mediaFiles(running);
      expect(uploads).toHaveLength(2);
      for (const id of LARGE) {
        const requests = seen.filter((request) => request.key === id);
        expect(requests.length).toBeGreaterThan(0);
        for (const request of requests) {
          const media = request.parts.filter((part) => !part.text);
          expect(media).toEqual([{ fileData: { fileUri: expect.any(String), mimeType: 'image/png' } }]);
          expect(uploads.map((upload) => upload.uri)).toContain(media[0]?.fileData?.fileUri);
        }
      }
      expect(fileUriOf(LARGE[0] as string)).not.toBe(fileUriOf(LARGE[1] as string));
      for (const id of SMALL) {
        expect(lastRequestOf(id)?.parts.filter((part) => !part.text)).toEqual([
          { inlineData: expect.objectContaining({ mimeType: 'image/png' }) },
        ]);
      }
      // Billed like an image: the same 258 tokens as an inline scan, plus the text and the schema.
      for (const entry of running.ledger.entries().filter((e) => e.outcome === 'ok')) {
        const text = entry.promptText.length + JSON.stringify(PAGE_SCHEMA).length;
        expect(entry.inputTokens).toBe(Math.ceil(text / 4) + TOKENS_PER_IMAGE);
      }

      // A re-run of one page reuses the live upload.
      const uriBefore = fileUriOf(LARGE[1] as string);
      rmSync(join(root, 'out', `${LARGE[1]}.json`));
      expect((await run(workload.configPath, running)).summary.counts.done).toBe(4);
      expect(fileUriOf(LARGE[1] as string)).toBe(uriBefore);
      expect(await mediaFiles(running)).toHaveLength(2);
    });
  }

  it('waits out a failed media upload (HTTP 503) instead of failing the record', async () => {
    const running = await start({});
    // Each upload call retries FAST_RETRY.maxAttempts times: token calibration meets the first set of
    // refusals (and skips calibrating), the first round the second, and skips that record for a round.
    running.setFaults({ http: [{ kind: 'status_503', match: 'upload', count: 2 * FAST_RETRY.maxAttempts }] });
    const workload = writeScanWorkload({});
    root = workload.root;
    const { summary, events } = await run(workload.configPath, running, { retryPolicy: FAST_RETRY });
    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    expect(events.filter((event) => event.type === 'record-failed')).toEqual([]);
    expect(events.some((event) => event.type === 'warning' && event.message.startsWith('Skipping'))).toBe(
      true,
    );
    expect(await mediaFiles(running)).toHaveLength(2);
  });

  it('re-uploads a scan whose remote file was deleted, and counts it like an image in countTokens', async () => {
    const running = await start({});
    const workload = writeScanWorkload({});
    root = workload.root;
    await run(workload.configPath, running);
    const uploads = await mediaFiles(running);
    const gone = fileUriOf(LARGE[0] as string);
    const goneFile = uploads.find((upload) => upload.uri === gone);
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: running.url });
    await client.deleteFile(goneFile?.name ?? '');

    rmSync(join(root, 'out', `${LARGE[0]}.json`));
    const { summary, events } = await run(workload.configPath, running);
    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    expect(events.filter((event) => event.type === 'record-failed')).toEqual([]);
    const now = await mediaFiles(running);
    expect(now).toHaveLength(2);
    const replacement = fileUriOf(LARGE[0] as string);
    expect(replacement).not.toBe(gone);
    expect(now.map((upload) => upload.uri)).toContain(replacement);

    // countTokens resolves the uploaded file: one image.
    const counted = await client.countTokens('gemini-2.5-flash', {
      contents: [
        {
          role: 'user',
          parts: [{ text: 'abcd' }, { fileData: { fileUri: replacement ?? '', mimeType: 'image/png' } }],
        },
      ],
    });
    expect(counted).toBe(1 + TOKENS_PER_IMAGE);
    // A reference to the deleted file is refused with Google's 403 "... or it may not exist", which
    // wavebatch reads as the missing file it is.
    await expect(
      client.countTokens('gemini-2.5-flash', {
        contents: [{ role: 'user', parts: [{ fileData: { fileUri: gone ?? '', mimeType: 'image/png' } }] }],
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', status: 403 });
  });

  it('re-uploads a scan whose remote file expired (emulator fileTtlMs)', async () => {
    const HOUR = 3600_000;
    // Half an emulated hour per real second: the file lives 3 s, and the runner keeps a 20-minute
    // margin, so the first run has over 2 s to finish before the file counts as expiring.
    const running = await start({ timeScale: 1800, fileTtlMs: 1.5 * HOUR });
    const workload = writeScanWorkload({});
    root = workload.root;
    const options = { mediaExpiryMarginMs: HOUR / 3 };
    expect((await run(workload.configPath, running, options)).summary.counts.done).toBe(4);
    const first = fileUriOf(LARGE[0] as string);
    expect(await mediaFiles(running)).toHaveLength(2);

    const deadline = running.now() + 1.5 * HOUR;
    while (running.now() <= deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await mediaFiles(running)).toEqual([]);

    rmSync(join(root, 'out', `${LARGE[0]}.json`));
    const { summary, events } = await run(workload.configPath, running, options);
    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    expect(events.filter((event) => event.type === 'record-failed')).toEqual([]);
    const replacement = fileUriOf(LARGE[0] as string);
    expect(replacement).not.toBe(first);
    expect((await mediaFiles(running)).map((upload) => upload.uri)).toEqual([replacement]);
  });
});

describe('media uploads stuck in PROCESSING (upload_stuck)', () => {
  let emulator: RunningEmulator | undefined;

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  it('gives up on a stuck upload after the processing timeout and uploads the file again', async () => {
    const timeScale = 3600;
    emulator = await startEmulator({
      timeScale,
      turnaroundMs: 30_000,
      seed: 5,
      faults: { fileRates: { stuck_processing: 0.5 } },
    });
    const workload = writeScanWorkload({ inline_max_bytes: 1_000_000 });
    sandbox.removeAfterTest(workload.root);
    const config = await emulatedConfig(workload.configPath, emulator);
    const events: RunnerEvent[] = [];
    // The runner waits on emulated time: its 5-minute processing timeout passes in a tenth of a second.
    const session = await openWorkloadSession(config, {
      clock: emulatorClock(emulator, timeScale),
      retryPolicy: FAST_RETRY,
      onEvent: (event) => events.push(event),
    });
    let summary;
    try {
      summary = await session.runner.run(AbortSignal.timeout(20_000));
    } finally {
      await session.close();
    }
    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    const stuck = events.filter(
      (event) => event.type === 'warning' && /still processing .* after 300 s/.test(event.message),
    );
    expect(stuck.length).toBeGreaterThan(0);
    // Each stuck copy was left behind and a fresh one uploaded; every record was billed once.
    expect((await mediaFiles(emulator)).length).toBeGreaterThan(LARGE.length);
    const billed = emulator.ledger.entries().map((entry) => entry.key);
    expect(new Set(billed).size).toBe(billed.length);
  });
});
