import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { WorkloadRecord } from '../../src/workload/record.js';

async function* stream(records: WorkloadRecord[]): AsyncIterable<WorkloadRecord> {
  yield* records;
}

function page(chain: string, position: number): WorkloadRecord {
  return { id: `${chain}/p${position}`, chainId: chain, position, vars: { page: position }, media: [] };
}

describe('SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-store-'));
    store = new SqliteStore({ path: join(dir, 'state.db') });
    // Positions arrive out of order on purpose: chains are linked by position, not arrival.
    await store.syncRecords(stream([page('a', 2), page('a', 1), page('a', 3), page('b', 1)]));
    await store.linkChains();
    await store.refreshReadiness();
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links chains by position and makes only chain heads ready, longest chain first', async () => {
    expect((await store.getRecord('a/p2'))?.predecessorId).toBe('a/p1');
    expect((await store.getRecord('a/p1'))?.predecessorId).toBeNull();
    expect((await store.getRecord('a/p1'))?.remaining).toBe(3);
    const ready = await store.listReady(10);
    expect(ready.map((r) => r.id)).toEqual(['a/p1', 'b/p1']);
    expect(await store.counts()).toMatchObject({ ready: 2, blocked: 2, total: 4 });
  });

  it('re-sync is idempotent and keeps state', async () => {
    const summary = await store.syncRecords(stream([page('a', 1), page('c', 1)]));
    expect(summary).toEqual({ seen: 2, inserted: 1 });
    expect((await store.counts()).total).toBe(5);
  });

  it('claims records into one job only and unblocks the successor on completion', async () => {
    const member = { recordId: 'a/p1', attempt: 0, promptHash: 'h', estimatedTokens: 10 };
    await store.createJobIntent({ id: 'job1', model: 'm', kind: 'inline', members: [member] });
    await expect(
      store.createJobIntent({ id: 'job2', model: 'm', kind: 'inline', members: [member] }),
    ).rejects.toThrow(/not ready/);
    expect(await store.getJob('job2')).toBeNull();
    expect((await store.getRecord('a/p1'))?.status).toBe('in_flight');

    expect(
      await store.completeRecords([{ recordId: 'a/p1', jobId: 'job1', inputTokens: 5, outputTokens: 7 }]),
    ).toBe(1);
    // A second completion of the same result (a replay after a crash) changes nothing.
    expect(
      await store.completeRecords([{ recordId: 'a/p1', jobId: 'job1', inputTokens: 5, outputTokens: 7 }]),
    ).toBe(0);
    expect((await store.getRecord('a/p2'))?.status).toBe('ready');
    expect((await store.getJob('job1'))?.inputTokens).toBe(5);
  });

  it('completes many records in one call: only flights of that job count, successors unblock', async () => {
    const member = (recordId: string) => ({ recordId, attempt: 0, promptHash: 'h', estimatedTokens: 10 });
    const success = (recordId: string, jobId: string, inputTokens = 5, outputTokens = 7) => ({
      recordId,
      jobId,
      inputTokens,
      outputTokens,
    });
    await store.createJobIntent({
      id: 'job1',
      model: 'm',
      kind: 'file',
      members: [member('a/p1'), member('b/p1')],
    });
    expect(await store.completeRecords([])).toBe(0);

    // b/p1 is in flight in job1, not in 'other'; a/p3 is blocked, in no job.
    expect(
      await store.completeRecords([
        success('a/p1', 'job1'),
        success('b/p1', 'other'),
        success('a/p3', 'job1'),
      ]),
    ).toBe(1);
    expect((await store.getRecord('a/p1'))?.status).toBe('done');
    expect((await store.getRecord('a/p2'))?.status).toBe('ready');
    expect((await store.getRecord('b/p1'))?.status).toBe('in_flight');
    expect((await store.getRecord('a/p3'))?.status).toBe('blocked');

    await store.createJobIntent({ id: 'job2', model: 'm', kind: 'file', members: [member('a/p2')] });
    // A replay of a/p1, a duplicate of b/p1 and a/p2 (in flight in job2, not job1) change nothing.
    expect(
      await store.completeRecords([
        success('a/p1', 'job1'),
        success('b/p1', 'job1', 2, 3),
        success('b/p1', 'job1', 2, 3),
        success('a/p2', 'job1'),
      ]),
    ).toBe(1);
    expect((await store.getRecord('b/p1'))?.status).toBe('done');
    expect((await store.getRecord('a/p2'))?.status).toBe('in_flight');
    expect(await store.getJob('job1')).toMatchObject({ inputTokens: 7, outputTokens: 10 });
    expect(await store.getJob('job2')).toMatchObject({ inputTokens: 0, outputTokens: 0 });

    expect(await store.completeRecords([success('a/p2', 'job2')])).toBe(1);
    expect((await store.getRecord('a/p3'))?.status).toBe('ready');
    expect(await store.counts()).toMatchObject({ done: 3, ready: 1, in_flight: 0, blocked: 0 });
  });

  it('retries failures up to max_retries, then dead-letters, and requeues', async () => {
    const failure = (attempt: number) => ({
      recordId: 'b/p1',
      jobId: `j${attempt}`,
      attempt,
      cause: 'invalid_json',
      message: 'bad',
      raw: '{"x":1}',
      promptName: 'p',
      promptVersion: 'v1',
      promptHash: 'h',
    });
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await store.createJobIntent({
        id: `j${attempt}`,
        model: 'm',
        kind: 'inline',
        members: [{ recordId: 'b/p1', attempt, promptHash: 'h', estimatedTokens: 1 }],
      });
      outcomes.push(await store.failRecord(failure(attempt), 2, true));
    }
    expect(outcomes).toEqual(['retry', 'retry', 'dead']);
    expect(await store.failRecord(failure(2), 2, true)).toBe('stale');
    const dead = await store.listFailures({ deadOnly: true });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ recordId: 'b/p1', final: true, raw: '{"x":1}', promptVersion: 'v1' });
    expect(await store.failureCauses()).toEqual([{ cause: 'invalid_json', count: 3 }]);
    expect(await store.requeueDead()).toBe(1);
    await store.refreshReadiness();
    expect(await store.getRecord('b/p1')).toMatchObject({ status: 'ready', attempts: 0 });
  });

  it('reconciles with output files: present means done, missing means redo', async () => {
    async function* ids() {
      yield 'a/p1';
      yield 'a/p2';
    }
    expect(await store.reconcileDone(ids())).toEqual({ markedDone: 2, reopened: 0 });
    await store.refreshReadiness();
    expect((await store.getRecord('a/p3'))?.status).toBe('ready');
    async function* onlyFirst() {
      yield 'a/p1';
    }
    expect(await store.reconcileDone(onlyFirst())).toEqual({ markedDone: 0, reopened: 1 });
    await store.refreshReadiness();
    expect((await store.getRecord('a/p2'))?.status).toBe('ready');
    expect((await store.getRecord('a/p3'))?.status).toBe('blocked');
  });

  it('abandoning an intent releases its records; state survives reopening the file', async () => {
    await store.createJobIntent({
      id: 'j',
      model: 'm',
      kind: 'file',
      members: [{ recordId: 'b/p1', attempt: 0, promptHash: 'h', estimatedTokens: 1 }],
    });
    await store.close();
    store = new SqliteStore({ path: join(dir, 'state.db') });
    expect((await store.listJobs(['intent'])).map((j) => j.id)).toEqual(['j']);
    await store.abandonJobIntent('j');
    expect(await store.getJob('j')).toBeNull();
    expect((await store.getRecord('b/p1'))?.status).toBe('ready');
  });

  it('dead-letters a ready record that cannot be sent, without a job', async () => {
    const outcome = await store.failRecord(
      {
        recordId: 'b/p1',
        jobId: null,
        attempt: 0,
        cause: 'input_error',
        message: 'missing file',
        raw: null,
        promptName: 'p',
        promptVersion: 'v1',
        promptHash: null,
      },
      3,
      false,
    );
    expect(outcome).toBe('dead');
    expect((await store.getRecord('b/p1'))?.status).toBe('dead');
  });

  it('repairs records stranded in flight by a job that ended before they were released', async () => {
    await store.createJobIntent({
      id: 'j',
      model: 'm',
      kind: 'inline',
      members: [{ recordId: 'b/p1', attempt: 0, promptHash: 'h', estimatedTokens: 1 }],
    });
    await store.markJobSubmitted('j', 'batches/1', null);
    expect(await store.releaseStrandedRecords()).toBe(0);
    await store.updateJobState('j', 'expired');
    expect(await store.releaseStrandedRecords()).toBe(1);
    expect((await store.getRecord('b/p1'))?.status).toBe('ready');
  });

  it('remembers uploaded media files by content and type, replaces an entry, forgets it, and resets', async () => {
    const row = {
      sha256: 'a'.repeat(64),
      mimeType: 'image/png',
      sizeBytes: 123,
      remoteName: 'files/one',
      uri: 'https://x/v1beta/files/one',
      expiresAt: '2026-01-03T00:00:00.000Z',
      uploadedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(await store.getMediaFile(row.sha256, 'image/png')).toBeNull();
    await store.saveMediaFile(row);
    expect(await store.getMediaFile(row.sha256, 'image/png')).toEqual(row);
    // Same bytes declared as another type are another entry.
    expect(await store.getMediaFile(row.sha256, 'image/jpeg')).toBeNull();
    const replaced = { ...row, remoteName: 'files/two', uri: 'https://x/v1beta/files/two', expiresAt: null };
    await store.saveMediaFile(replaced);
    expect(await store.getMediaFile(row.sha256, 'image/png')).toEqual(replaced);
    await store.reset();
    expect(await store.getMediaFile(row.sha256, 'image/png')).toBeNull();
  });

  it('adds the media-file cache to a store written before it existed (schema 1), keeping its data', async () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0] ?? '');
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO records (id, chain_id, position, vars_json, media_json, updated_at) VALUES ('r', 'c', 1, '{}', '[]', 'now')`,
      )
      .run();
    old.close();
    const upgraded = new SqliteStore({ path });
    try {
      expect((await upgraded.getRecord('r'))?.chainId).toBe('c');
      await upgraded.saveMediaFile({
        sha256: 'b'.repeat(64),
        mimeType: 'application/pdf',
        sizeBytes: 1,
        remoteName: 'files/p',
        uri: 'u',
        expiresAt: null,
        uploadedAt: 't',
      });
      expect((await upgraded.getMediaFile('b'.repeat(64), 'application/pdf'))?.remoteName).toBe('files/p');
    } finally {
      await upgraded.close();
    }
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });
});
