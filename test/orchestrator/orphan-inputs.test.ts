import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { DELETE_BACKOFF } from '../../src/lanes/batch/input-file-sweep.js';
import { INPUT_REUSE_MAX_AGE_MS } from '../../src/lanes/batch/job-creation.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runOnEmulatorClock } from '../fixtures/session.js';

const TIME_SCALE = 3600;

// A run that ended between the upload of a job's input and the job's create (a crash, or a stop
// while the create kept failing) left an upload that the next run, an hour or more later, did not
// reuse: it uploaded the input again and the first upload stayed in the user's Files storage until
// it expired (48 h). Every upload's name is now in the store before the upload starts, and a run
// deletes those no active job uses.
describe('an input uploaded by a run that stopped before its create', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('is deleted by the next run, which uploads a fresh one', async () => {
    let skewMs = 0;
    const emulator = await startEmulator({
      timeScale: TIME_SCALE,
      turnaroundMs: 60_000,
      seed: 59,
      realNow: () => Date.now() + skewMs,
      // Every create fails (503): the job stays an intent holding its uploaded input.
      faults: { http: [{ kind: 'status_503', match: 'create' }] },
    });
    try {
      const workload = writeCatalogWorkload({
        books: 1,
        pages: 1,
        execution: { inline_max_bytes: 0, poll_interval: '1s' },
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      roots.push(workload.root);

      const stop = new AbortController();
      const first = await runOnEmulatorClock(workload.configPath, emulator, {
        timeScale: TIME_SCALE,
        signal: stop.signal,
        onEvent: (event) => {
          if (event.type === 'warning' && event.message.includes('is not created yet')) stop.abort();
        },
      });
      expect(first.summary.finished).toBe(false);
      const orphan = emulator.heldFiles().filter((file) => file.source === 'UPLOADED');
      expect(orphan).toHaveLength(1);

      // Past the age an input is reused at: the next run uploads the job's input again.
      emulator.setFaults({});
      skewMs += (2 * INPUT_REUSE_MAX_AGE_MS) / TIME_SCALE;
      const second = await runOnEmulatorClock(workload.configPath, emulator, { timeScale: TIME_SCALE });
      expect(second.summary.finished).toBe(true);
      expect(emulator.ledger.entries()).toHaveLength(1);
      expect(emulator.heldFiles().filter((file) => file.source === 'UPLOADED')).toEqual([]);
    } finally {
      await emulator.close();
    }
  }, 60_000);

  it('whose answer was lost after it was stored is used by the upload tried again: nothing failed, nothing left', async () => {
    const emulator = await startEmulator({
      timeScale: TIME_SCALE,
      turnaroundMs: 60_000,
      seed: 67,
      // The upload's start is served whole (it has no body to cut); its last chunk is stored and
      // its answer cut off: the file exists under the name the run chose, which the run never heard.
      faults: { http: [{ kind: 'reset_mid_body', match: 'upload', count: 2 }] },
    });
    try {
      const workload = writeCatalogWorkload({
        books: 1,
        pages: 1,
        execution: { inline_max_bytes: 0, max_retries: 0, poll_interval: '1s' },
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      roots.push(workload.root);
      const run = await runOnEmulatorClock(workload.configPath, emulator, { timeScale: TIME_SCALE });
      expect(emulator.httpFaultsFired()).toEqual([2]);
      expect(run.summary.finished).toBe(true);
      expect(run.summary.counts).toMatchObject({ done: 1, dead: 0 });
      expect(emulator.ledger.entries()).toHaveLength(1);
      expect(emulator.heldFiles().filter((file) => file.source === 'UPLOADED')).toEqual([]);
    } finally {
      await emulator.close();
    }
  }, 60_000);

  it('whose delete fails (503) is deleted by a later sweep: the run ends done, nothing failed', async () => {
    let skewMs = 0;
    const emulator = await startEmulator({
      timeScale: TIME_SCALE,
      turnaroundMs: 60_000,
      seed: 61,
      realNow: () => Date.now() + skewMs,
      faults: { http: [{ kind: 'status_503', match: 'delete' }] },
    });
    try {
      const workload = writeCatalogWorkload({
        books: 2,
        pages: 1,
        execution: { inline_max_bytes: 0, max_requests_per_job: 1, poll_interval: '1s' },
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      roots.push(workload.root);
      const first = await runOnEmulatorClock(workload.configPath, emulator, { timeScale: TIME_SCALE });
      expect(first.summary.finished).toBe(true);
      expect(first.summary.counts).toMatchObject({ done: 2, dead: 0 });
      expect(emulator.httpFaultsFired()[0]).toBeGreaterThan(0);
      expect(emulator.heldFiles().filter((file) => file.source === 'UPLOADED')).toHaveLength(2);
      // Said once per file, not at every pass.
      const warnings = first.events.filter(
        (event) => event.type === 'warning' && event.message.includes('Deleting the uploaded input file'),
      );
      expect(warnings).toHaveLength(2);

      emulator.setFaults({});
      // A refused delete waits before its next try, in the store (an hour at most): past it, the
      // next run's sweep deletes them.
      skewMs += DELETE_BACKOFF.maxDelayMs / TIME_SCALE;
      const second = await runOnEmulatorClock(workload.configPath, emulator, { timeScale: TIME_SCALE });
      expect(second.summary.finished).toBe(true);
      expect(emulator.heldFiles().filter((file) => file.source === 'UPLOADED')).toEqual([]);
      expect(emulator.ledger.entries()).toHaveLength(2);
    } finally {
      await emulator.close();
    }
  }, 60_000);
});
