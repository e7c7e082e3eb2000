import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withoutKeptAnswers } from '../../../src/lanes/batch/kept-answers.js';
import type { KeptBatchAnswer } from '../../../src/lanes/batch/kept-batch-answer.js';
import type { SyncLane } from '../../../src/lanes/lane.js';
import { createValidator } from '../../../src/results/index.js';
import type { RecordRequest } from '../../../src/runner/record-request.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { StoredRecord } from '../../../src/store/store.js';
import { emptyEvent } from '../../../src/telemetry/attempt-event.js';
import { CATALOG_PAGE_SCHEMA } from '../../fixtures/catalog-workload.js';
import {
  blockSchool2Outputs,
  expectWrittenFromBilledAnswer,
  requeueDeadLetters,
} from '../../fixtures/blocked-output.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_000;

// A synchronous lane keeps a valid answer it could not settle, and its retry on a synchronous lane
// applies it; a retry the batch lane took put the record in a job, and Google billed it again.
describe('a record whose answer a synchronous lane kept, retried on the batch lane', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  for (const mode of ['batch', 'auto'] as const) {
    it(`is done from the kept answer, not sent in a job and billed again (mode ${mode})`, async () => {
      const emulator = await sandbox.startEmulator({ timeScale: TIME_SCALE, seed: 5 });
      const workload = writeCatalogWorkload({
        books: 2,
        pages: 1,
        // One request at a time, as the sync lane's own test explains: one record's failure only.
        execution: { mode: 'realtime', max_retries: 0, poll_interval: '30s', sync_concurrency: 1 },
      });
      root = workload.root;
      const [[good], [doomed]] = workload.chains as [[string], [string]];
      const blocked = blockSchool2Outputs(root);
      const first = await runOnEmulatorClock(workload.configPath, emulator, {
        timeScale: TIME_SCALE,
        signal: AbortSignal.timeout(30_000),
      });
      expect(first.summary.counts).toMatchObject({ done: 1, dead: 1 });
      expect(billsPerRecord(emulator.ledger.entries()).get(doomed)).toBe(1);

      // The folder fixed, the dead letter requeued, and the run now on the batch lane (or free to use it).
      blocked.fix();
      expect(await requeueDeadLetters(root)).toBe(1);
      const config = readFileSync(workload.configPath, 'utf8');
      // With a deadline two days off, `auto` sends on the batch lane, which meets it at half price.
      const lanes = mode === 'auto' ? 'mode: auto\n  deadline: 48h' : 'mode: batch';
      writeFileSync(workload.configPath, config.replace('mode: realtime', lanes));
      const again = await runOnEmulatorClock(workload.configPath, emulator, {
        timeScale: TIME_SCALE,
        signal: AbortSignal.timeout(30_000),
      });

      expect(again.summary.counts).toMatchObject({ done: 2, dead: 0 });
      if (mode === 'auto')
        expect(again.events).toContainEqual(
          expect.objectContaining({ type: 'lane-decision', recordId: doomed, lane: 'batch' }),
        );
      // The outside observer: no job was made for it and nothing more was billed.
      const ledger = emulator.ledger.entries();
      expect(ledger.filter((entry) => entry.key !== null)).toEqual([]);
      expect(billsPerRecord(ledger)).toEqual(
        new Map([
          [good, 1],
          [doomed, 1],
        ]),
      );
      expectWrittenFromBilledAnswer(root, ledger, doomed);
    }, 60_000);
  }
});

// Issue #9: the batch build path of a million records must not ask the store about each record.
describe('taking the records with a kept answer out of a batch round', () => {
  let folder = '';
  afterEach(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('asks the store once a round, not at all when no record was sent before, routes each kept answer to the lane that bought it, and keeps a record whose prompt changed', async () => {
    folder = mkdtempSync(join(tmpdir(), 'wb-kept-'));
    const store = new SqliteStore({ path: join(folder, 'state.db') });
    const ids = ['a/p1', 'b/p1', 'c/p1', 'd/p1', 'e/p1'];
    await store.syncRecords(async function* () {
      for (const id of ids) yield { id, chainId: id.split('/')[0] ?? id, position: 1, vars: {}, media: [] };
    });
    const kept = (recordId: string, promptHash: string, lane: 'standard' | 'batch' = 'standard') => ({
      ...emptyEvent('attempt', 'retry', Date.parse('2026-12-06T00:00:00Z'), 1, lane),
      recordId,
      jobId: lane === 'batch' ? 'job-1' : null,
      model: 'gemini-2.5-flash',
      promptHash,
      cause: 'local_error',
      output: { courses: ['Latin 101'], carry_over: '' },
    });
    // b/p1 kept an answer to the prompt it still renders; c/p1 to one its template no longer renders;
    // e/p1's answer was bought by a batch job.
    await store.appendEvents([
      kept('b/p1', 'hash b/p1'),
      kept('c/p1', 'old hash'),
      kept('e/p1', 'hash e/p1', 'batch'),
    ]);
    let asked = 0;
    const counted = {
      keptAnswerRecords: (recordIds: readonly string[], cause: string) => {
        asked += 1;
        return store.keptAnswerRecords(recordIds, cause);
      },
      listEvents: store.listEvents.bind(store),
    };
    const applied: Array<[SyncLane, readonly string[]]> = [];
    const appliedBatch: string[][] = [];
    const deps = {
      store: counted,
      requests: {
        build: async (record: { id: string }) => ({ promptHash: `hash ${record.id}` }) as RecordRequest,
      },
      validator: createValidator(CATALOG_PAGE_SCHEMA),
      model: 'gemini-2.5-flash',
      apply: async (lane: SyncLane, recordIds: readonly string[]) => applied.push([lane, recordIds]),
      applyBatch: async (answers: readonly KeptBatchAnswer[]) =>
        appliedBatch.push(...answers.map((answer) => [answer.record.id, answer.bought.jobId])),
    };
    const record = (id: string, lane: StoredRecord['lane']) => ({ id, lane }) as StoredRecord;

    const neverSent = ids.map((id) => record(id, null));
    expect(await withoutKeptAnswers(deps, neverSent)).toBe(neverSent);
    expect(asked).toBe(0);

    const mixed = ids.map((id) => record(id, id === 'a/p1' || id === 'e/p1' ? 'batch' : 'standard'));
    const packed = await withoutKeptAnswers(deps, mixed);
    expect(asked).toBe(1);
    expect(packed.map((r) => r.id)).toEqual(['a/p1', 'c/p1', 'd/p1']);
    expect(applied).toEqual([['standard', ['b/p1']]]);
    expect(appliedBatch).toEqual([['e/p1', 'job-1']]);
    await store.close();
  });
});
