import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outputDocument, RecordLifecycle, type SettlementEvent } from '../../src/lifecycle/index.js';
import { openOutputSink, type OutputSink } from '../../src/outputs/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ClaimedRecord } from '../../src/store/store.js';
import { AttemptEventFactory } from '../../src/telemetry/attempt-event.js';
import type { WorkloadRecord } from '../../src/workload/record.js';

async function* chains(count: number, length: number): AsyncIterable<WorkloadRecord> {
  for (let c = 0; c < count; c++)
    for (let p = 1; p <= length; p++)
      yield { id: `c${c}/p${p}`, chainId: `c${c}`, position: p, vars: {}, media: [] };
}

describe('the record lifecycle (real SQLite store, real JSONL sink)', () => {
  let dir: string;
  let store: SqliteStore;
  let outputs: OutputSink;
  let events: SettlementEvent[];
  let lifecycle: RecordLifecycle;
  const attempts = new AttemptEventFactory({ now: () => 0 });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-lifecycle-'));
    store = new SqliteStore({ path: join(dir, 'state.db') });
    await store.syncRecords(() => chains(3, 2));
    await store.linkChains();
    await store.refreshReadiness();
    outputs = openOutputSink({ kind: 'jsonl', root: join(dir, 'out') }, store);
    await outputs.recover();
    events = [];
    lifecycle = new RecordLifecycle({
      store,
      outputs,
      emit: (event) => events.push(event),
      maxRetries: 1,
      prompt: { name: 'p', version: 'v1' },
    });
  });

  afterEach(async () => {
    await outputs.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function success(record: ClaimedRecord, text: string) {
    const flight = { lane: record.lane, requestId: record.requestId };
    const usage = { inputTokens: 3, outputTokens: 4 };
    return {
      recordId: record.id,
      flight,
      document: outputDocument({
        record,
        output: { text },
        prompt: { name: 'p', version: 'v1', hash: 'h' },
        model: 'gemini-2.5-flash',
        flight,
        attempt: record.attempts,
        usage,
        completedAt: 0,
      }),
      usage,
      attempt: record.attempts,
      promptHash: 'h',
      event: attempts.create({
        runId: null,
        lane: record.lane,
        model: 'gemini-2.5-flash',
        requestId: record.requestId,
        record,
        prompt: { name: 'p', version: 'v1', hash: 'h' },
        attempt: record.attempts,
        usage,
        output: { text },
      }),
    };
  }

  it('settles concurrent synchronous successes one at a time: outputs readable, successors unlocked, events logged once', async () => {
    const claimed = await lifecycle.claim('flex', 10, 's1');
    expect(claimed.map((r) => r.id)).toEqual(['c0/p1', 'c1/p1', 'c2/p1']);
    // Requests answer in any order and settle concurrently: the lifecycle serializes the writes.
    await Promise.all(
      [...claimed].reverse().map(async (record) => {
        await lifecycle.succeed(success(record, `out ${record.id}`));
        await lifecycle.flush();
      }),
    );
    expect(await store.counts()).toMatchObject({ done: 3, ready: 3, in_flight: 0 });
    for (const record of claimed) {
      const stored = await store.getRecord(record.id);
      const document = await outputs.read(record.id, stored?.output ?? null);
      expect(document?.output).toEqual({ text: `out ${record.id}` });
      expect(document?.meta).toMatchObject({ job: record.requestId, lane: 'flex' });
    }
    expect(events.map((e) => [e.type, e.recordId, e.lane])).toEqual(
      [...claimed].reverse().map((r) => ['record-done', r.id, 'flex']),
    );
    // A late duplicate of a settled request changes nothing and logs nothing.
    const first = claimed[0] as ClaimedRecord;
    await lifecycle.succeed(success(first, 'again'));
    await lifecycle.flush();
    expect((await store.listEvents({ recordId: first.id })).map((e) => e.type)).toEqual(['done']);
  });

  it('never marks a record done when its output could not be written: it fails alone (local_error), its answer kept', async () => {
    const [record] = await lifecycle.claim('standard', 1, 's2');
    if (!record) throw new Error('nothing claimed');
    const reported: SettlementEvent[] = [];
    const broken = new RecordLifecycle({
      store,
      outputs: {
        groupSize: 1,
        writeGroup: () => Promise.reject(new Error('disk full')),
        discardGroup: () => Promise.resolve(),
        checkpoint: () => Promise.resolve(),
      },
      emit: (event) => reported.push(event),
      maxRetries: 1,
      prompt: { name: 'p', version: 'v1' },
    });
    await broken.succeed(success(record, 'lost'));
    expect(await store.getRecord(record.id)).toMatchObject({ status: 'ready', attempts: 1 });
    const [failure] = await store.listFailures();
    expect(failure).toMatchObject({ recordId: record.id, cause: 'local_error', final: false });
    expect(failure?.message).toContain(
      `The standard request for ${record.id} failed in wavebatch (stage settle:`,
    );
    expect(failure?.message).toContain('disk full');
    // The answer stays in the log with the failure, so the retry can apply it rather than buy it.
    const [event] = await store.listEvents({ recordId: record.id });
    expect(event).toMatchObject({ type: 'retry', cause: 'local_error', output: { text: 'lost' } });
    expect(reported.map((e) => [e.type, e.recordId])).toEqual([['record-failed', record.id]]);
  });

  it('retries a failed attempt by its cause, dead-letters past max_retries, and ignores an old flight', async () => {
    const failure = (record: ClaimedRecord, retryable: boolean) => ({
      recordId: record.id,
      flight: { lane: record.lane, requestId: record.requestId },
      attempt: record.attempts,
      cause: retryable ? 'api_error' : 'safety',
      message: retryable ? 'shed' : 'blocked: SAFETY',
      raw: null,
      retryable,
      promptHash: 'h',
    });
    const [first] = await lifecycle.claim('flex', 1, 'f1', ['c1/p1']);
    if (!first) throw new Error('nothing claimed');
    expect(await lifecycle.fail(failure(first, true))).toBe('retry');
    expect(await lifecycle.fail(failure(first, true))).toBe('stale');
    const [second] = await lifecycle.claim('flex', 1, 'f2', ['c1/p1']);
    if (!second) throw new Error('nothing claimed');
    expect(await lifecycle.fail(failure(second, true))).toBe('dead');
    const [blocked] = await lifecycle.claim('priority', 1, 'f3', ['c2/p1']);
    if (!blocked) throw new Error('nothing claimed');
    expect(await lifecycle.fail(failure(blocked, false))).toBe('dead');
    expect(events.map((e) => (e.type === 'record-failed' ? e.outcome : e.type))).toEqual([
      'retry',
      'stale',
      'dead',
      'dead',
    ]);
    expect(await store.counts()).toMatchObject({ dead: 2, in_flight: 0 });
  });
});
