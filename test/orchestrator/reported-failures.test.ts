import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { writeCatalogWorkload, type OutputSinkName } from '../fixtures/catalog-workload.js';
import { billedTimes } from '../fixtures/remote-jobs.js';
import { runThroughFaults } from '../fixtures/fault-run.js';
import { emulatorSandbox } from '../emulator/harness.js';

/** A run that has not finished after this long (real time) is stuck: the test fails instead of hanging. */
const STUCK_MS = 20_000;

/** Every live file of the emulator's project, as an outside observer lists them through the SDK. */
async function remoteFiles(emulator: RunningEmulator): Promise<Array<{ name: string; source: string }>> {
  const ai = new GoogleGenAI({
    apiKey: 'observer-key',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: emulator.url },
  });
  const files = [];
  for await (const file of await ai.files.list({ config: { pageSize: 100 } }))
    files.push({ name: file.name ?? '', source: String(file.source ?? '') });
  return files;
}

function warnings(events: RunnerEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'warning' ? [event.message] : []));
}

/** What the run told about its retried calls and its warnings. */
function told(events: RunnerEvent[]): string[] {
  return events.flatMap((event) =>
    event.type === 'warning' || event.type === 'retry' ? [event.message] : [],
  );
}

describe('wavebatch copes with the Batch API failures users report', () => {
  let emulator: RunningEmulator | undefined;

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  /**
   * Runs a 3-book, 3-page workload on an emulator with `options` and checks that it finishes by itself
   * with every record done, each billed exactly once (the ledger) and no job created twice.
   */
  async function runUnder(
    options: EmulatorOptions,
    execution: Record<string, number | string> = {},
    sink: OutputSinkName = 'files',
    billing: 'once' | 'unmatched again' = 'once',
  ) {
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 3,
      execution: { max_retries: 4, ...execution },
      sink,
    });
    sandbox.removeAfterTest(workload.root);
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 30_000, seed: 23, ...options });
    const { events, summary } = await runThroughFaults(workload, emulator, {
      stuckMs: STUCK_MS,
      faults: options.faults,
      billedOnce: billing === 'once',
    });
    return { events, summary, workload };
  }

  it('429 on batch create while under every limit: nothing was created, the job is sent again', async () => {
    const { events } = await runUnder({
      faults: { http: [{ kind: 'status_429', match: 'create', count: 3 }] },
    });
    expect(events.filter((event) => event.type === 'quota-wait')).toHaveLength(3);
  });

  it('429 on list (the start-up scan and adopting by name) is retried', async () => {
    const { events } = await runUnder({
      faults: {
        http: [
          { kind: 'status_429', match: 'list', count: 2 },
          // A dropped create makes the runner look its job up by name, through list.
          { kind: 'drop', match: 'create', count: 1 },
          { kind: 'status_429', match: 'list', count: 1 },
        ],
      },
    });
    // Each retry names the API error's code: the bare message named Google's status alone.
    const retried = events.flatMap((event) => (event.type === 'retry' ? [event.message] : []));
    expect(retried.length).toBeGreaterThan(0);
    for (const message of retried)
      expect(message).toMatch(/^\[QUOTA_EXHAUSTED\] Listing batches failed \(HTTP 429 RESOURCE_EXHAUSTED\)/);
  });

  it('rows missing from a results file: their records are sent again, the others applied once', async () => {
    const { events } = await runUnder({ faults: { rowRates: { missing: 0.25 } } }, { inline_max_bytes: 0 });
    const failed = events.flatMap((event) => (event.type === 'record-failed' ? [event] : []));
    expect(failed.length).toBeGreaterThan(0);
    expect(
      failed.every((event) => event.cause === 'missing_result' && /without a result/.test(event.message)),
    ).toBe(true);
  });

  it('rows written twice are applied once: one JSONL line per record', async () => {
    const { workload } = await runUnder(
      { faults: { rowRates: { duplicated: 0.5 } } },
      { inline_max_bytes: 0 },
      'jsonl',
    );
    const lines = readdirSync(join(workload.root, 'out'))
      .filter((file) => file.endsWith('.jsonl'))
      .flatMap((file) =>
        readFileSync(join(workload.root, 'out', file), 'utf8')
          .trim()
          .split('\n'),
      )
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(lines.sort()).toEqual(workload.chains.flat().sort());
  });

  it('a SUCCEEDED job whose every row failed: the records are sent again and the failures reported', async () => {
    const { events } = await runUnder({
      faults: { jobSequence: ['job_rows_failed', 'none', 'job_rows_failed'] },
    });
    const processed = events.flatMap((event) => (event.type === 'job-processed' ? [event] : []));
    expect(processed.filter((event) => event.succeeded === 0 && event.failed > 0)).toHaveLength(2);
  });

  it('inline responses without metadata: never matched by position; sent again as file jobs, with a clear warning', async () => {
    const { events, workload } = await runUnder(
      { faults: { jobRates: { no_metadata: 1 } } },
      {},
      'files',
      'unmatched again',
    );
    const said = warnings(events).filter((message) => message.includes('js-genai#1191'));
    expect(said.length).toBeGreaterThan(0);
    expect(said[0]).toMatch(/without metadata\.key.*sends every job as an uploaded file/);
    // The inline jobs of the first round were answered (and billed) but could not be matched; every
    // later job went as a file, whose rows carry the key: their records were billed once more, no more.
    const submitted = events.flatMap((event) => (event.type === 'job-submitted' ? [event] : []));
    const inlineJobs = submitted.filter((event) => event.kind === 'inline').map((event) => event.remoteName);
    expect(inlineJobs.length).toBeGreaterThan(0);
    const firstFile = submitted.findIndex((event) => event.kind === 'file');
    expect(submitted.slice(firstFile).every((event) => event.kind === 'file')).toBe(true);
    const ledger = emulator!.ledger.entries();
    const billedInline = new Set(
      ledger.filter((e) => inlineJobs.includes(e.batchName ?? '')).map((e) => e.key),
    );
    const billed = billedTimes(emulator!);
    for (const id of workload.chains.flat())
      expect(billed.get(id), `billed ${id}`).toBe(billedInline.has(id) ? 2 : 1);
  });

  it('an emulator refusing bare "jsonl" uploads: batch inputs go as text/plain and the run finishes', async () => {
    const { summary } = await runUnder({ faults: { refuseMimeTypes: ['jsonl'] } }, { inline_max_bytes: 0 });
    expect(summary.jobsSubmitted).toBeGreaterThan(0);
  });

  it('a project storage quota nearly full: inputs and results files are deleted as jobs settle, so uploads fit again', async () => {
    // Room for two batch inputs (about 450 bytes each) or one with its results: a third is a 429.
    const { events } = await runUnder(
      { quotas: { fileStorageBytes: 1_000 } },
      { inline_max_bytes: 0, max_concurrent_jobs: 3, max_requests_per_job: 1 },
    );
    expect(
      told(events).some((message) => /file_storage_bytes.*Files API storage \(20 GB.*is full/s.test(message)),
    ).toBe(true);
    expect(await remoteFiles(emulator!)).toEqual([]);
  });
});
