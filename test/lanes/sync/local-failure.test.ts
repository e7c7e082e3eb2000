import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/errors.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import {
  blockSchool2Outputs,
  expectWrittenFromBilledAnswer,
  requeueDeadLetters,
} from '../../fixtures/blocked-output.js';
import { refuseFailureFiling } from '../../fixtures/refused-write.js';
import { catalogOnEmulator } from '../../fixtures/catalog-on-emulator.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { openEmulatedSession, runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_000;

// An answer that could not be settled (here its output folder cannot be made: a file has its name)
// released its record uncounted, and the record was claimed, sent and billed again for ever.
describe('a synchronous record whose answer can never be settled', () => {
  const sandbox = emulatorSandbox();

  it('is dead-lettered after max_retries with the stage and the error, and the run ends; its answer is bought once and applied once the folder is fixed', async () => {
    const maxRetries = 2;
    const { emulator, workload } = await catalogOnEmulator(
      sandbox,
      {
        books: 2,
        pages: 1,
        // Requests in parallel: an answer queued in the failing record's output group is written on its
        // own (the lifecycle dropped the whole group, its record left in flight).
        execution: { mode: 'realtime', max_retries: maxRetries, poll_interval: '30s' },
      },
      { timeScale: TIME_SCALE, seed: 3 },
    );
    const root = workload.root;
    const [[good], [doomed]] = workload.chains as [[string], [string]];
    const blocked = blockSchool2Outputs(root);

    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });

    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 1, dead: 1, total: 2 });
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    await store.close();
    expect(
      failures.map((failure) => [failure.recordId, failure.cause, failure.attempt, failure.final]),
    ).toEqual([
      [doomed, 'local_error', 0, false],
      [doomed, 'local_error', 1, false],
      [doomed, 'local_error', 2, true],
    ]);
    expect(failures[2]?.message).toContain(
      `The standard request for ${doomed} failed in wavebatch (stage settle:`,
    );
    expect(failures[2]?.message).toContain(
      `[OUTPUT_PATH_NOT_FOLDER] ${join(root, 'out', 'ST', 'school2')} is a file, not a folder`,
    );
    expect(events.some((event) => event.type === 'record-failed' && event.outcome === 'dead')).toBe(true);

    // The outside observer: each record was billed once; the answer that could not be settled was
    // kept in the failure's event and applied by the retries, never bought again.
    const bills = billsPerRecord(emulator.ledger.entries());
    expect(bills.get(good)).toBe(1);
    expect(bills.get(doomed)).toBe(1);

    // The folder fixed and the dead letter requeued, the next run writes the kept answer: nothing is bought.
    blocked.fix();
    expect(await requeueDeadLetters(root)).toBe(1);
    const again = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });
    expect(again.summary.counts).toMatchObject({ done: 2, dead: 0 });
    // Every billed call counted once in the figures (the log's tokens of every run): the reuse bought nothing.
    const ledger = emulator.ledger.entries();
    expect(again.summary.inputTokens).toBe(ledger.reduce((sum, entry) => sum + entry.inputTokens, 0));
    expect(billsPerRecord(ledger).get(doomed)).toBe(1);
    expectWrittenFromBilledAnswer(root, ledger, doomed);
  }, 60_000);
});

// The synchronous lane filed a failure of wavebatch's own apart from the record lifecycle and,
// when the store refused to file it, gave the record back uncounted and went on: nothing was kept,
// so the record was sent, billed and refused again for ever. The batch lane stops the run instead.
describe('a synchronous failure of wavebatch the store refuses to file', () => {
  const sandbox = emulatorSandbox();

  it('ends the run with STORE_WRITE naming the record and the store; its answer is bought once', async () => {
    const { emulator, workload } = await catalogOnEmulator(
      sandbox,
      { books: 2, pages: 1, execution: { mode: 'realtime', max_retries: 2, poll_interval: '30s' } },
      { timeScale: TIME_SCALE, seed: 3 },
    );
    const root = workload.root;
    const [, [doomed]] = workload.chains as [[string], [string]];
    blockSchool2Outputs(root);
    const path = join(root, 'state', 'state.db');
    await refuseFailureFiling(path, doomed);

    const ended = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(20_000),
    }).catch((error: unknown) => error);

    expect(StoreError.isInstance(ended)).toBe(true);
    expect(ended).toMatchObject({ code: 'STORE_WRITE' });
    expect((ended as Error).message).toContain(
      `The state store ${path} could not file the failure of ${doomed}`,
    );
    // The outside observer: the answer that could not be settled was bought once, never again.
    expect(billsPerRecord(emulator.ledger.entries()).get(doomed)).toBe(1);
  }, 60_000);
});

// A settle the store refused (STORE_BUSY: another process held the write lock past the busy
// timeout) sends its record back; the release that did so swallowed its own failure, so a lock
// still held then left the record in flight: `run` waited for it until stopped.
describe('a synchronous record whose settle and release the store refuses', () => {
  const sandbox = emulatorSandbox();

  /**
   * Another writer on its own thread: takes the store's write lock as it is called (returning once
   * it holds it) and lets go `holdMs` later on its own clock, whatever this thread is doing.
   */
  function lockHolder(path: string, holdMs: number): { lock: () => void; done: Promise<unknown> } {
    const held = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const db = new (require('better-sqlite3'))(workerData.path);
       const held = new Int32Array(workerData.shared);
       Atomics.wait(held, 0, 0);
       db.exec('BEGIN IMMEDIATE');
       Atomics.store(held, 0, 2);
       Atomics.notify(held, 0);
       setTimeout(() => { db.exec('COMMIT'); db.close(); }, workerData.holdMs);`,
      { eval: true, workerData: { path, holdMs, shared: held.buffer } },
    );
    const done = new Promise((resolve) => worker.once('exit', resolve));
    return {
      lock: () => {
        Atomics.store(held, 0, 1);
        Atomics.notify(held, 0);
        Atomics.wait(held, 0, 1, 5_000);
      },
      done,
    };
  }

  it('is given back once the store takes writes again, sent again and done, and the run ends', async () => {
    let holder: ReturnType<typeof lockHolder> | null = null;
    // Real time (one emulated ms a real ms) and an answer in 100 ms: the busy timeouts (5 s) are
    // real. The lock is held from the first request's arrival for 13 s: past the settle and the
    // release that follows it (each refused after 5 s of waiting).
    const emulator = await sandbox.startEmulator({
      timeScale: 1,
      tiers: { standard: { latencyMs: 100 } },
      responder: () => {
        holder?.lock();
        holder = null;
        return undefined;
      },
    });
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { mode: 'realtime', poll_interval: '24h', sync_concurrency: 1 },
    });
    sandbox.removeAfterTest(workload.root);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, 1),
    });
    const lock = lockHolder(join(workload.root, 'state', 'state.db'), 13_000);
    holder = lock;
    try {
      const summary = await session.runner.run(AbortSignal.timeout(40_000));
      expect(summary.counts).toMatchObject({ done: 1, in_flight: 0 });
      expect(summary.finished).toBe(true);
    } finally {
      await lock.done;
      await session.close();
    }
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'warning',
        // The store's error is quoted with its code, which says the store was busy, not broken.
        message: expect.stringMatching(/could not be given back to the queue: \[STORE_BUSY\] /),
      }),
    );
    // Its answer was lost with the refused settle: sent again, billed twice (nothing could be kept).
    expect(emulator.ledger.entries()).toHaveLength(2);
  }, 60_000);
});
