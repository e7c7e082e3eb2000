import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ExitCode, runExitCode } from '../../../src/cli/exit-codes.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { OUTPUT_SINKS } from '../../fixtures/catalog-workload.js';
import { threeBookBatch } from '../../fixtures/catalog-on-emulator.js';
import { refuseWrites } from '../../fixtures/refused-write.js';
import { readOutputs } from '../../fixtures/output-reader.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatedSleepClock, speedableRealTime } from '../../fixtures/emulator-clock.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_600;

/** A real SQLite failure of marking `recordId` done, and of nothing else. */
function refuseDone(path: string, recordId: string): Promise<() => void> {
  return refuseWrites(
    path,
    'refuse_done',
    `BEFORE UPDATE OF status ON records WHEN NEW.status = 'done' AND OLD.id = '${recordId}'`,
  );
}

// A store failure after the sink wrote the outputs (marking them done) dropped the whole group and
// ended a batch run with SQLite's bare error at every start, the job never applied. The JSONL sink's
// lines of a group the store did not take fell inside the next commit: read through the manifest, a
// record applied again had two lines (readOutputs refuses an id committed twice).
describe.each(OUTPUT_SINKS)('a batch result the store cannot mark done (%s sink)', (sink) => {
  const sandbox = emulatorSandbox();

  it('fails its group (local_error, stage settle, the answers kept), applies the job and ends the run; the answers are bought once', async () => {
    const { emulator, workload } = await threeBookBatch(sandbox, sink);
    const root = workload.root;
    const [[, doomed]] = [workload.chains.map((chain) => chain[0] as string)] as [[string, string, string]];
    const path = join(root, 'state', 'state.db');
    const fix = await refuseDone(path, doomed);

    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });

    expect(summary.finished).toBe(true);
    expect(runExitCode(summary, null)).toBe(ExitCode.DeadLetters);
    expect(summary.counts.dead).toBeGreaterThanOrEqual(1);
    expect(events.filter((event) => event.type === 'job-processed')).toHaveLength(1);

    const store = new SqliteStore({ path });
    const failures = await store.listFailures();
    const jobs = await store.listJobs();
    const kept = await store.listEvents({ recordId: doomed, kind: 'attempt' });
    await store.close();
    expect(jobs.map((job) => job.state)).toEqual(['processed']);
    const own = failures.filter((failure) => failure.recordId === doomed);
    expect(own.map((failure) => [failure.cause, failure.attempt, failure.final])).toEqual([
      ['local_error', 0, false],
      ['local_error', 1, false],
      ['local_error', 2, true],
    ]);
    expect(own[0]?.message).toContain(`The batch request for ${doomed} failed in wavebatch (stage settle:`);
    expect(own[0]?.message).toContain('the disk refused the write');
    expect(kept.map((event) => [event.type, event.cause, event.requests])).toEqual([
      ['retry', 'local_error', 1],
      ['retry', 'local_error', 0],
      ['dead', 'local_error', 0],
    ]);
    expect(kept[2]?.output).toEqual(kept[0]?.output);
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1]);

    // The store fixed and the dead letters requeued, the next run applies the kept answers: nothing is bought.
    fix();
    const requeue = new SqliteStore({ path });
    await requeue.requeueDead();
    await requeue.close();
    const again = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });
    expect(again.summary.counts).toMatchObject({ done: 3, dead: 0 });
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1]);
    expect(readOutputs(join(root, 'out'), sink).get(doomed)?.output).toEqual(kept[0]?.output);
  }, 60_000);
  // Another connection holds the write lock from the moment the job is seen SUCCEEDED until the run
  // reports the job put off: marking its outputs done waits the busy timeout and gives up (STORE_BUSY).
  // Emulated time, the runner's sleeps included, stands still meanwhile. The busy timeout is 5 real
  // seconds, while the lease's heartbeat (src/store/lease.ts) sleeps 15 emulated seconds, 4 real ms
  // at TIME_SCALE: on emulatorClock it met the lock at every turn, each renewal blocking the one
  // thread 5 s, and the run, given a few ms between them, reached the job's results only after the
  // test gave up (eleven renewals, 55 s, 56 emulated hours). On a real clock a heartbeat that meets a
  // busy store comes back 15 s later, so the run goes on: the stall was the test's own clock.
  it('passes a store busy past its timeout uncounted: the job is applied again on the next pass', async () => {
    const time = speedableRealTime();
    const { emulator, workload } = await threeBookBatch(sandbox, sink, { realNow: time.now });
    const root = workload.root;
    const path = join(root, 'state', 'state.db');
    await new SqliteStore({ path }).close();
    const holder = new Database(path);
    const warnings: string[] = [];
    try {
      const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
        timeScale: TIME_SCALE,
        clock: emulatedSleepClock(emulator, TIME_SCALE),
        signal: AbortSignal.timeout(40_000),
        onEvent: (event) => {
          if (event.type === 'job-state' && event.state === 'succeeded') {
            time.speedUp(0);
            holder.exec('BEGIN IMMEDIATE');
          }
          if (event.type === 'warning') {
            warnings.push(event.message);
            if (event.message.includes('tried again on the next pass') && holder.inTransaction) {
              holder.exec('COMMIT');
              time.speedUp(1);
            }
          }
        },
      });
      expect(summary.finished).toBe(true);
      expect(summary.counts).toMatchObject({ done: 3, dead: 0, total: 3 });
      expect(events.filter((event) => event.type === 'job-processed')).toHaveLength(1);
    } finally {
      holder.close();
    }
    const putOff = warnings.filter((message) => message.includes('It is tried again on the next pass.'));
    expect(putOff).toHaveLength(1);
    expect(putOff[0]).toContain(`Another process kept the state store ${path} locked for writing`);
    const store = new SqliteStore({ path });
    const failures = await store.listFailures();
    await store.close();
    expect(failures).toEqual([]);
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1]);
    expect([...readOutputs(join(root, 'out'), sink).keys()]).toHaveLength(3);
  }, 60_000);
});
