import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type FaultPlan, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runThroughFaults } from '../fixtures/fault-run.js';
import { emulatorSandbox } from '../emulator/harness.js';

/** A run that has not finished after this long (real time) is stuck: the test fails instead of hanging. */
const STUCK_MS = 15_000;

describe('a run survives transient faults of every remote call', () => {
  let emulator: RunningEmulator | undefined;

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  /** Runs a 3-book, 2-page workload under `faults` and checks it ends done, billed once, no job twice. */
  async function runUnder(faults: FaultPlan, execution: Record<string, number | string> = {}) {
    const workload = writeCatalogWorkload({ books: 3, pages: 2, execution });
    sandbox.removeAfterTest(workload.root);
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 30_000, seed: 21, faults });
    return runThroughFaults(workload, emulator, { stuckMs: STUCK_MS, faults });
  }

  it('a 503 on batch create is retried in-process, not left as an intent forever', async () => {
    await runUnder({ http: [{ kind: 'status_503', match: 'create', count: 1 }] });
  });

  // A 499 CANCELLED (Google cancelled the call itself) was read as a refusal of the job: each of its
  // records counted a failed attempt and the job was sent again as a new one.
  it('a 499 CANCELLED on batch create is retried, and counts no attempt', async () => {
    const { events } = await runUnder({ http: [{ kind: 'status_499', match: 'create', count: 2 }] });
    expect(events.filter((event) => event.type === 'record-failed')).toEqual([]);
  });

  it('a 504 DEADLINE_EXCEEDED on batch create is retried, and counts no attempt', async () => {
    const { events } = await runUnder({ http: [{ kind: 'status_504', match: 'create', count: 2 }] });
    expect(events.filter((event) => event.type === 'record-failed')).toEqual([]);
  });

  it('a dropped connection on batch create is reconciled by name and retried', async () => {
    await runUnder({ http: [{ kind: 'drop', match: 'create', count: 2 }] });
  });

  it('a create whose answer is cut off after the job was made is adopted by name, not made twice', async () => {
    await runUnder({ http: [{ kind: 'reset_mid_body', match: 'create', count: 1 }] });
  });

  it('one HTTP 500 while downloading a results file does not end the run', async () => {
    await runUnder({ http: [{ kind: 'status_500', match: 'download', count: 1 }] }, { inline_max_bytes: 0 });
  });

  // The SDK piped the answer into the file and waited for the file to finish: a body cut off by a
  // connection reset errored the answer, never the file, and the download (and the run) hung.
  it('a results download cut off part-way by a connection reset is downloaded again, not waited on for ever', async () => {
    await runUnder(
      { http: [{ kind: 'reset_mid_body', match: 'download', count: 1 }] },
      { inline_max_bytes: 0 },
    );
  }, 30_000);

  it('get, list, upload, download and count faults are all retried', async () => {
    await runUnder(
      {
        http: [
          { kind: 'status_503', match: 'get', count: 2 },
          { kind: 'drop', match: 'list', count: 1 },
          { kind: 'status_500', match: 'upload', count: 1 },
          { kind: 'drop', match: 'download', count: 1 },
          { kind: 'status_503', match: 'count', count: 1 },
          { kind: 'drop', match: 'create', count: 1 },
        ],
      },
      { inline_max_bytes: 0 },
    );
  });

  it('a persistent download failure is reported and the job is collected on a later pass', async () => {
    // Ten 500s in a row: more than one call's retries, so the pass gives up on that job for now.
    const { events } = await runUnder(
      { http: [{ kind: 'status_500', match: 'download', count: 10 }] },
      { inline_max_bytes: 0 },
    );
    expect(events.some((e) => e.type === 'warning' && /Downloading/.test(e.message))).toBe(true);
  });
});
