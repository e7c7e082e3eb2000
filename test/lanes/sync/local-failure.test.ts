import { join } from 'node:path';
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
import { runOnEmulatorClock } from '../../fixtures/session.js';
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
