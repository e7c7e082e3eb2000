import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCodeOf } from '../../src/errors.js';
import {
  outputDocument,
  RecordLifecycle,
  type Flight,
  type SettledSuccess,
} from '../../src/lifecycle/index.js';
import { openOutputSink, type OutputSink } from '../../src/outputs/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ClaimedRecord } from '../../src/store/store.js';
import { storeLockedElsewhere } from '../fixtures/store-lock.js';

const JOB = 'job-1';
const BATCH: Flight = { lane: 'batch', jobId: JOB };

/** The error code a settle rejected with, or 'settled'. */
function outcomeOf(settle: Promise<void>): Promise<string> {
  return settle.then(
    () => 'settled',
    (error: unknown) => errorCodeOf(error) ?? String(error),
  );
}

// In mode `auto` the batch lane and the synchronous lanes queue their outputs with one lifecycle, and
// a group holds both. A group that met a store another process kept locked (STORE_BUSY) told only the
// call that settled it: the batch job's outputs a synchronous answer's flush took with it were
// dropped, the batch lane's own flush found nothing left and the job was marked processed, its
// records in flight for ever (the run never finished); a synchronous answer the batch lane's flush
// took with it left its request done and its record in flight.
describe('a group of both lanes that meets a busy store', () => {
  let dir: string;
  let store: SqliteStore;
  let outputs: OutputSink;
  let lifecycle: RecordLifecycle;
  let other: Awaited<ReturnType<typeof storeLockedElsewhere>>;
  let synchronous: ClaimedRecord;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-busy-group-'));
    const path = join(dir, 'state.db');
    other = await storeLockedElsewhere(path);
    // A short busy timeout: the lock is held for the whole settle, however long it waits.
    store = new SqliteStore({ path, busyTimeoutMs: 20 });
    await store.syncRecords(async function* () {
      for (const id of ['a', 'b', 'c']) yield { id, chainId: id, position: 1, vars: {}, media: [] };
    });
    await store.linkChains();
    await store.refreshReadiness();
    await store.createJobIntent({
      id: JOB,
      model: 'm',
      kind: 'inline',
      members: ['a', 'b'].map((recordId) => ({ recordId, attempt: 0, promptHash: 'h', estimatedTokens: 1 })),
    });
    [synchronous] = (await store.claimReady({ lane: 'flex', limit: 1, claimId: 's1' })) as [ClaimedRecord];
    outputs = openOutputSink({ kind: 'jsonl', root: join(dir, 'out') }, store);
    await outputs.recover();
    lifecycle = new RecordLifecycle({
      store,
      outputs,
      emit: () => undefined,
      maxRetries: 1,
      prompt: { name: 'p', version: 'v1' },
    });
  });

  afterEach(async () => {
    other.release();
    await outputs.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function answer(recordId: string, flight: Flight): SettledSuccess {
    const usage = { inputTokens: 3, outputTokens: 4 };
    return {
      recordId,
      flight,
      document: outputDocument({
        record: { id: recordId, predecessorId: null },
        output: { text: `out ${recordId}` },
        prompt: { name: 'p', version: 'v1', hash: 'h' },
        model: 'gemini-2.5-flash',
        flight,
        attempt: 0,
        usage,
        completedAt: 0,
      }),
      usage,
      attempt: 0,
      promptHash: 'h',
    };
  }

  const syncFlight = (): Flight => ({ lane: 'flex', requestId: synchronous.requestId });

  it('tells the batch lane its queued outputs were not settled, so the job is not marked applied and its records are applied again', async () => {
    // The batch lane applies the job's results: queued, not yet settled.
    await lifecycle.succeed(answer('a', BATCH));
    await lifecycle.succeed(answer('b', BATCH));
    // A synchronous answer settles, the batch outputs in its group, while another process holds the lock.
    other.lock();
    await lifecycle.succeed(answer(synchronous.id, syncFlight()));
    expect(await outcomeOf(lifecycle.flush(syncFlight()))).toBe('STORE_BUSY');
    other.release();
    // Its request keeps its answer and settles it again (see settleThroughBusyStore), the lock let go;
    // the batch lane's flush must not pass as if the job's outputs were settled.
    await lifecycle.succeed(answer(synchronous.id, syncFlight()));
    expect(await outcomeOf(lifecycle.flush(syncFlight()))).toBe('settled');
    expect(await outcomeOf(lifecycle.flush(BATCH))).toBe('STORE_BUSY');
    expect((await store.recordsInJob(JOB)).map((record) => [record.id, record.status])).toEqual([
      ['a', 'in_flight'],
      ['b', 'in_flight'],
    ]);
    // The job applied again (the next pass), each record is done once, its output committed once.
    await lifecycle.succeed(answer('a', BATCH));
    await lifecycle.succeed(answer('b', BATCH));
    await lifecycle.flush(BATCH);
    expect(await store.counts()).toMatchObject({ done: 3, ready: 0, in_flight: 0 });
    for (const id of ['a', 'b']) {
      const stored = await store.getRecord(id);
      expect((await outputs.read(id, stored?.output ?? null))?.output).toEqual({ text: `out ${id}` });
    }
    // Told once: a later flush of the job has nothing owed.
    expect(await outcomeOf(lifecycle.flush(BATCH))).toBe('settled');
  });

  it('tells a synchronous request whose queued answer the batch lane settled, so it settles its answer again', async () => {
    await lifecycle.succeed(answer('a', BATCH));
    // The answer is queued; before its request's flush, the batch lane's flush settles it with the job's.
    await lifecycle.succeed(answer(synchronous.id, syncFlight()));
    other.lock();
    expect(await outcomeOf(lifecycle.flush(BATCH))).toBe('STORE_BUSY');
    other.release();
    expect(await outcomeOf(lifecycle.flush(syncFlight()))).toBe('STORE_BUSY');
    expect(await store.getRecord(synchronous.id)).toMatchObject({ status: 'in_flight' });
    // Its claim still held, the answer settles once.
    await lifecycle.succeed(answer(synchronous.id, syncFlight()));
    expect(await outcomeOf(lifecycle.flush(syncFlight()))).toBe('settled');
    expect(await store.counts()).toMatchObject({ done: 1, ready: 0, in_flight: 2 });
  });

  it('does not tell a request whose own answer was settled the failure of the batch outputs its flush took', async () => {
    // Its answer is settled in the batch lane's group; the job's next output is queued after it.
    await lifecycle.succeed(answer(synchronous.id, syncFlight()));
    await lifecycle.succeed(answer('a', BATCH));
    await lifecycle.flush(BATCH);
    await lifecycle.succeed(answer('b', BATCH));
    other.lock();
    // The request's flush settles the batch output alone, and the store refuses it: not its failure
    // (told, it would settle again an answer already done), the batch lane's.
    expect(await outcomeOf(lifecycle.flush(syncFlight()))).toBe('settled');
    other.release();
    expect(await outcomeOf(lifecycle.flush(BATCH))).toBe('STORE_BUSY');
    expect(await store.getRecord(synchronous.id)).toMatchObject({ status: 'done' });
    expect(await store.getRecord('b')).toMatchObject({ status: 'in_flight' });
  });
});
