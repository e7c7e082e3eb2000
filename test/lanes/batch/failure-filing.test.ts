import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/errors.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { threeBookBatch } from '../../fixtures/catalog-on-emulator.js';
import { emulatedSleepClock, speedableRealTime } from '../../fixtures/emulator-clock.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { refuseFailureFiling } from '../../fixtures/refused-write.js';
import { storeLockedElsewhere } from '../../fixtures/store-lock.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_600;

// Filing a batch result's failure met a store another process kept locked past the busy timeout.
describe('a batch failure the store cannot file', () => {
  const sandbox = emulatorSandbox();

  it('puts its job off uncounted while another process holds the write lock: the job is applied again on the next pass, each failure filed once, nothing bought twice', async () => {
    const time = speedableRealTime();
    const { emulator, workload } = await threeBookBatch(sandbox, 'files', {
      realNow: time.now,
      // The first job ends SUCCEEDED with every row an error: each record's failure is filed first.
      faults: { jobSequence: ['job_rows_failed'] },
    });
    const root = workload.root;
    const path = join(root, 'state', 'state.db');
    const other = await storeLockedElsewhere(path);
    const warnings: string[] = [];
    let lockedOnce = false;

    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      // Emulated time stands still while the lock is held (see store-failure.test.ts).
      clock: emulatedSleepClock(emulator, TIME_SCALE),
      signal: AbortSignal.timeout(40_000),
      onEvent: (event) => {
        if (event.type === 'job-state' && event.state === 'succeeded' && !lockedOnce) {
          lockedOnce = true;
          time.speedUp(0);
          other.lock();
        }
        if (event.type === 'warning') {
          warnings.push(event.message);
          if (event.message.includes('tried again on the next pass')) {
            other.release();
            time.speedUp(1);
          }
        }
      },
    });

    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 3, dead: 0, total: 3 });
    const putOff = warnings.filter((message) => message.includes('It is tried again on the next pass.'));
    expect(putOff).toHaveLength(1);
    expect(putOff[0]).toContain(`Another process kept the state store ${path} locked for writing`);
    expect(events.filter((event) => event.type === 'job-processed')).toHaveLength(2);
    const store = new SqliteStore({ path });
    const failures = await store.listFailures();
    await store.close();
    // One failure a record, of the failed row: the pass that met the lock counted nothing.
    expect(failures.map((failure) => [failure.recordId, failure.attempt]).sort()).toEqual(
      workload.chains.map(([id]) => [id, 0]).sort(),
    );
    expect(failures.every((failure) => failure.cause !== 'local_error')).toBe(true);
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1]);
  }, 60_000);

  // Any other refusal (a full disk, a read-only file) ended the run with SQLite's bare error, which
  // named neither the record nor the store.
  it('ends the run with STORE_WRITE naming the record and the store when SQLite refuses to file it; once fixed, the next start applies the job again, each failure filed once, nothing bought twice', async () => {
    const { emulator, workload } = await threeBookBatch(sandbox, 'files', {
      faults: { jobSequence: ['job_rows_failed'] },
    });
    const root = workload.root;
    const [[, doomed]] = [workload.chains.map((chain) => chain[0] as string)] as [[string, string, string]];
    const path = join(root, 'state', 'state.db');
    const fix = await refuseFailureFiling(path, doomed);

    const ended = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    }).catch((error: unknown) => error);

    expect(StoreError.isInstance(ended)).toBe(true);
    expect(ended).toMatchObject({ code: 'STORE_WRITE', category: 'failure' });
    expect((ended as Error).message).toContain(
      `The state store ${path} could not file the failure of ${doomed}`,
    );
    expect((ended as Error).message).toContain('the disk refused the write');

    fix();
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });
    expect(summary.counts).toMatchObject({ done: 3, dead: 0, total: 3 });
    expect(events.filter((event) => event.type === 'job-processed')).toHaveLength(2);
    const store = new SqliteStore({ path });
    const failures = await store.listFailures();
    await store.close();
    expect(failures.map((failure) => [failure.recordId, failure.attempt]).sort()).toEqual(
      workload.chains.map(([id]) => [id, 0]).sort(),
    );
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1]);
  }, 60_000);
});
