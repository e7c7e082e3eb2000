import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { emulatorClock, patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession, runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { ExitCode, runExitCode } from '../../../src/cli/exit-codes.js';
import { formatSummary } from '../../../src/cli/progress.js';

const TIME_SCALE = 3_000;

describe('a synchronous lane through an API outage', () => {
  const sandbox = emulatorSandbox();

  it('counts no attempt for requests the API failed through every retry: nothing is dead-lettered', async () => {
    // 20 answers of 503 in a row: more than one request's 8 tries, so some give up.
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      faults: { http: [{ kind: 'status_503', match: 'generate', count: 20 }] },
    });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { mode: 'realtime', max_retries: 0, poll_interval: '30s' },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      // The standard lane's 10 minutes are 200 real ms here: a busy machine's pause timed out a call,
      // counted it as the record's one attempt (max_retries 0) and dead-lettered it.
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
    });

    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    expect(emulator.ledger.entries()).toHaveLength(4);
    expect(
      events.some((event) => event.type === 'warning' && event.message.includes('through every retry')),
    ).toBe(true);
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    await store.close();
    expect(failures).toEqual([]);
  });

  // Google answers 499 CANCELLED when it cancelled a call itself: nothing was done, and the same call
  // may succeed. It was read as a refusal of the request, which dead-lettered the record at once.
  it('sends a call the API answered 499 CANCELLED again: the record is done, billed once, nothing failed', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      faults: { http: [{ kind: 'status_499', match: 'generate', count: 2 }] },
    });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { mode: 'realtime', max_retries: 0, poll_interval: '30s' },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      signal: AbortSignal.timeout(20_000),
    });

    expect(emulator.httpFaultsFired()).toEqual([2]);
    expect(summary.counts).toMatchObject({ done: 4, dead: 0 });
    const billed = emulator.ledger.entries().map((entry) => entry.promptText);
    expect(billed).toHaveLength(4);
    expect(new Set(billed).size).toBe(4);
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    await store.close();
    expect(failures).toEqual([]);
  }, 30_000);

  it('a run-once whose requests the API failed through every retry exits 1, saying so, as one whose job create failed', async () => {
    // Every generate call fails: a cron'd run-once ended "incomplete", exit 0, as if nothing were wrong.
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      faults: { http: [{ kind: 'status_503', match: 'generate', count: 1_000 }] },
    });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { mode: 'flex', max_retries: 0, poll_interval: '30s' },
    });
    sandbox.removeAfterTest(workload.root);
    const open = () =>
      openEmulatedSession(workload.configPath, emulator, {
        clock: emulatorClock(emulator, TIME_SCALE),
        syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      });
    const outage = await open();
    const failed = await outage.session.runner.runOnce();
    await outage.session.close();
    expect(failed.counts).toMatchObject({ done: 0, dead: 0, ready: 2 });
    expect(failed.unansweredRequests).toBe(2);
    expect(runExitCode(failed, null)).toBe(ExitCode.Failed);
    expect(formatSummary(failed, 'out')).toContain(
      '2 records not answered (the API failed their requests through every retry; see the warnings above): the next run sends them again',
    );
    expect(emulator.ledger.entries()).toHaveLength(0);

    // Once the API answers, the next passes send them and report nothing unanswered.
    emulator.setFaults({});
    const recovered = await open();
    const first = await recovered.session.runner.runOnce();
    await recovered.session.close();
    expect(first.counts).toMatchObject({ done: 2, dead: 0 });
    expect(first.unansweredRequests).toBe(0);
    expect(runExitCode(first, null)).toBe(ExitCode.Done);
    expect(formatSummary(first, 'out')).not.toContain('not answered');
  });
});
