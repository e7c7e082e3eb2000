import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, runExitCode } from '../../../src/cli/exit-codes.js';
import { shardFileName } from '../../../src/outputs/index.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { blockSchool2Outputs, requeueDeadLetters } from '../../fixtures/blocked-output.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { threeBookBatch } from '../../fixtures/catalog-on-emulator.js';
import { OUTPUT_SINKS, type OutputSinkName } from '../../fixtures/catalog-workload.js';
import { readOutputs } from '../../fixtures/output-reader.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_600;

/**
 * Breaks where `doomed`'s output goes with a file or folder in its place: with the files sink a file
 * named like school2's folder (out/ST/school2), before the run; with the JSONL sink, whose records
 * all share one shard, a folder named like the first shard, once the sink has opened (at start it
 * would refuse the folder), so every output of the job fails to be written.
 */
function breakOutputs(sink: OutputSinkName, root: string): { before: () => void; fix: () => void } {
  if (sink === 'files') {
    let blocked: { fix: () => void } | undefined;
    return {
      before: () => void (blocked = blockSchool2Outputs(root)),
      fix: () => blocked?.fix(),
    };
  }
  const folder = join(root, 'out', shardFileName(1));
  return {
    before: () => mkdirSync(folder, { recursive: true }),
    fix: () => rmSync(folder, { recursive: true }),
  };
}

// A batch job whose output could not be written (ENOTDIR) failed the run with a bare error, and every
// later run the same way: the job stayed `succeeded`, its good records were never written, and past
// the results file's 48 h its records were sent and billed again. The output group's other answers
// were dropped with it, their records left in flight.
describe.each(OUTPUT_SINKS)('a batch result whose output cannot be written (%s sink)', (sink) => {
  const sandbox = emulatorSandbox();

  it('fails that record alone (local_error, the stage and the error), writes the others, applies the job and ends the run; its answer is bought once and applied once the folder is fixed', async () => {
    const { emulator, workload } = await threeBookBatch(sandbox, sink);
    const root = workload.root;
    const [[first], [doomed], [third]] = workload.chains as [[string], [string], [string]];
    const broken = breakOutputs(sink, root);
    if (sink === 'files') broken.before();

    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
      // The JSONL sink checks its folder at start: it is broken once the job is in Google's hands.
      onEvent: (event) => {
        if (event.type === 'job-submitted' && sink === 'jsonl') broken.before();
      },
    });

    // The run ends, honestly: the record whose output could not be written is a dead letter.
    expect(summary.finished).toBe(true);
    expect(runExitCode(summary, null)).toBe(ExitCode.DeadLetters);
    const unwritten = sink === 'files' ? [doomed] : [first, doomed, third];
    expect(summary.counts).toMatchObject({ done: 3 - unwritten.length, dead: unwritten.length, total: 3 });
    expect(events.filter((event) => event.type === 'job-processed')).toHaveLength(1);

    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    const jobs = await store.listJobs();
    const kept = await store.listEvents({ recordId: doomed, kind: 'attempt' });
    await store.close();
    expect(jobs.map((job) => job.state)).toEqual(['processed']);
    // Its retries applied the kept answer (the folder still broken, they failed again): not sent again.
    expect(
      failures.map((failure) => [failure.recordId, failure.cause, failure.attempt, failure.final]).sort(),
    ).toEqual(
      unwritten.flatMap((id) => [
        [id, 'local_error', 0, false],
        [id, 'local_error', 1, false],
        [id, 'local_error', 2, true],
      ]),
    );
    const message = failures.find((failure) => failure.recordId === doomed)?.message ?? '';
    expect(message).toContain(`The batch request for ${doomed} failed in wavebatch (stage settle:`);
    expect(message).toContain(
      sink === 'files' ? `${join(root, 'out', 'ST', 'school2')} is a file, not a folder` : 'EISDIR',
    );
    // Its answer is in the inference log with the failure, for a retry to apply.
    expect(kept.map((event) => [event.type, event.cause, event.requests])).toEqual([
      ['retry', 'local_error', 1],
      ['retry', 'local_error', 0],
      ['dead', 'local_error', 0],
    ]);
    expect(kept[2]?.output).toEqual(kept[0]?.output);
    // Each failure is reported on the batch lane, its retries from ready too (they named no lane).
    const reported = events.flatMap((event) =>
      event.type === 'record-failed' && event.recordId === doomed ? [[event.lane, event.outcome]] : [],
    );
    expect(reported).toEqual([
      ['batch', 'retry'],
      ['batch', 'retry'],
      ['batch', 'dead'],
    ]);

    // The outside observer: each record was billed once, by its batch request.
    const bills = billsPerRecord(emulator.ledger.entries());
    expect([...bills.values()]).toEqual([1, 1, 1]);
    expect(bills.get(doomed)).toBe(1);

    // The folder fixed and the dead letters requeued, the next run writes the kept answers: nothing is bought.
    broken.fix();
    expect(await requeueDeadLetters(root)).toBe(unwritten.length);
    const again = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });
    expect(again.summary.counts).toMatchObject({ done: 3, dead: 0 });
    expect(runExitCode(again.summary, null)).toBe(ExitCode.Done);
    const ledger = emulator.ledger.entries();
    expect([...billsPerRecord(ledger).values()]).toEqual([1, 1, 1]);
    const outputs = readOutputs(join(root, 'out'), sink);
    const answered = ledger.find((entry) => entry.key === doomed);
    expect(outputs.get(doomed)?.output).toEqual(kept[0]?.output);
    // Its document carries the bill of the answer it holds (the first job's), as any batch output does.
    expect(outputs.get(doomed)?.meta).toMatchObject({ usage: { inputTokens: answered?.inputTokens } });
    expect([...outputs.keys()].sort()).toEqual([first, doomed, third]);
  }, 60_000);
});
