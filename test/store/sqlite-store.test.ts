import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { MANY_WITH_STATUS } from '../../src/store/sqlite/record-queries.js';
import type { RecordFilter, StoredRecord } from '../../src/store/store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  CAUSE_COUNTS,
  RECENT_JOB_LATENCIES,
  RECENT_SYNC_LATENCIES,
} from '../../src/store/sqlite/event-log.js';
import { ADD_RANGE, ADD_RUN_JOBS, ADD_RUN_RANGE } from '../../src/store/sqlite/attempt-totals.js';
import { emptyEvent } from '../../src/telemetry/attempt-event.js';
import { describeStoreContract } from './store-suite.js';

describeStoreContract('SqliteStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wb-store-'));
  return {
    open: async () => new SqliteStore({ path: join(dir, 'state.db') }),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/**
 * A store file as an older wavebatch left it: the first `version` migrations applied, and `seed`'s
 * SQL run once the file was at schema `seed.atSchema` (data written by that older version).
 */
function storeAtSchema(
  path: string,
  version: number,
  seed?: { atSchema: number; sql: string },
): Database.Database {
  const old = new Database(path);
  MIGRATIONS.slice(0, version).forEach((migration, index) => {
    if (seed?.atSchema === index) old.exec(seed.sql);
    old.exec(migration);
    old.pragma(`user_version = ${index + 1}`);
  });
  return old;
}

/** Record r of chain c, as the records table held it with its inputs (before schema 15). */
const RECORD_BEFORE_SCHEMA_15 = `INSERT INTO records (id, chain_id, position, vars_json, media_json, updated_at)
  VALUES ('r', 'c', 1, '{}', '[]', 'now')`;

/** Closes `old`, a store written at an older schema, opens it with today's migrations and hands it to `use`. */
async function reopenUpgraded(
  old: Database.Database,
  use: (upgraded: SqliteStore) => Promise<void>,
): Promise<void> {
  const path = old.name;
  old.close();
  const upgraded = new SqliteStore({ path });
  try {
    await use(upgraded);
  } finally {
    await upgraded.close();
  }
}

describe('SqliteStore: its own file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-store-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('places rows by position, then chain, so a round of chains is adjacent; odd positions and taken places still sync', async () => {
    const path = join(dir, 'placed.db');
    const page = (chainId: string, position: number) => ({
      id: `${chainId}/${position}`,
      chainId,
      position,
      vars: {},
      media: [],
    });
    async function* stream(records: ReturnType<typeof page>[]) {
      yield* records;
    }
    const store = new SqliteStore({ path });
    await store.syncRecords(() =>
      stream(['a', 'b', 'c'].flatMap((chain) => [1, 2, 3].map((p) => page(chain, p)))),
    );
    // Odd positions (not a small whole number) get an ordinary place.
    await store.syncRecords(() => stream([page('odd', 1.5), page('odd', 2 ** 40), page('odd', -1)]));
    await store.close();

    const raw = new Database(path);
    const byRowid = raw.prepare('SELECT id FROM records ORDER BY rowid').pluck().all() as string[];
    expect(byRowid.slice(0, 9)).toEqual(['a/1', 'b/1', 'c/1', 'a/2', 'b/2', 'c/2', 'a/3', 'b/3', 'c/3']);
    // A place another row holds (as when the sequence is lost): SQLite chooses one, nothing is lost.
    raw.prepare(`UPDATE store_meta SET value = '0' WHERE key = 'next_chain_sequence'`).run();
    raw.close();
    const again = new SqliteStore({ path });
    await again.syncRecords(() => stream([1, 2, 3].map((p) => page('z', p))));
    await again.linkChains();
    const records = await again.listRecords({ limit: 100 });
    await again.close();
    expect(records.map((record) => record.id).sort()).toEqual([...byRowid, 'z/1', 'z/2', 'z/3'].sort());
    const z = records.filter((record) => record.chainId === 'z');
    expect(z.map((record) => record.predecessorId)).toEqual([null, 'z/1', 'z/2']);
    expect(records.find((record) => record.id === 'a/2')?.predecessorId).toBe('a/1');
  });

  it('refuses a record whose inputs row was deleted by hand, naming it, rather than dropping it from lists; a full sync writes it again', async () => {
    const path = join(dir, 'inputs.db');
    const page = (position: number) => ({
      id: `c/${position}`,
      chainId: 'c',
      position,
      vars: { text: `page ${position}` },
      media: [],
    });
    async function* stream() {
      yield* [1, 2, 3].map(page);
    }
    let store = new SqliteStore({ path });
    await store.syncRecords(() => stream());
    await store.close();
    const raw = new Database(path);
    raw
      .prepare(`DELETE FROM record_inputs WHERE record_key = (SELECT rowid FROM records WHERE id = 'c/2')`)
      .run();
    raw.close();

    store = new SqliteStore({ path });
    try {
      expect((await store.getRecord('c/1'))?.vars).toEqual({ text: 'page 1' });
      for (const read of [() => store.getRecord('c/2'), () => store.listRecords({ limit: 10 })])
        await expect(read()).rejects.toMatchObject({
          code: 'STORE_CORRUPT',
          message: expect.stringContaining('"c/2"'),
        });
      await store.syncRecords(() => stream());
      expect((await store.listRecords({ limit: 10 })).map((record) => record.vars)).toEqual(
        [1, 2, 3].map((position) => ({ text: `page ${position}` })),
      );
    } finally {
      await store.close();
    }
  });

  it('adds the media-file cache to a store written before it existed (schema 1), keeping its data', async () => {
    const path = join(dir, 'old.db');
    const old = storeAtSchema(path, 1);
    old.exec(RECORD_BEFORE_SCHEMA_15);
    await reopenUpgraded(old, async (upgraded) => {
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
    });
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });
  it('lists the unused uploads of a store written before failed deletes were held back (schema 24) as never failed', async () => {
    const path = join(dir, 'uploads.db');
    const old = storeAtSchema(path, 24);
    old
      .prepare(
        "INSERT INTO input_uploads (name, job_id, recorded_at) VALUES ('files/old', 'gone', '2026-01-01T00:00:00.000Z')",
      )
      .run();
    await reopenUpgraded(old, async (upgraded) => {
      expect(await upgraded.unusedInputFiles(10)).toEqual([{ name: 'files/old', deleteFailures: 0 }]);
      await upgraded.deferInputFile('files/old', 1, Date.now() + 60_000);
      expect(await upgraded.unusedInputFiles(10)).toEqual([]);
    });
  });

  it('reads a job member written before requests were kept (schema 25) with no request, so max_cost prices its job in even shares', async () => {
    const path = join(dir, 'members.db');
    const old = storeAtSchema(path, 25);
    old.exec(`
      INSERT INTO jobs (id, model, state, kind, request_count, requests, estimated_tokens, created_at, updated_at)
        VALUES ('job1', 'm', 'running', 'inline', 1, 1, 9, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      INSERT INTO job_records (job_id, record_id, attempt, prompt_hash, estimated_tokens) VALUES ('job1', 'a/1', 0, 'h', 9);
    `);
    old.close();
    const upgraded = new SqliteStore({ path });
    try {
      const [member] = await upgraded.jobMembers('job1');
      expect(member).toMatchObject({ recordId: 'a/1', estimatedTokens: 9, audioTokens: 0 });
      expect(member).not.toHaveProperty('request');
    } finally {
      await upgraded.close();
    }
  });

  it('keeps the texts of a store written before prompts, events and jobs were indexed by record row (schema 8): all found as before', async () => {
    const path = join(dir, 'schema8.db');
    const old = storeAtSchema(path, 8);
    old.exec(RECORD_BEFORE_SCHEMA_15);
    old
      .prepare(
        `INSERT INTO texts (hash, kind, body, created_at) VALUES ('h-old', 'prompt', '{"text":"old"}', 'then')`,
      )
      .run();
    old.exec(`INSERT INTO events (kind, type, at, lane, record_id) VALUES ('attempt', 'done', 'then', 'batch', 'r');
      INSERT INTO events (kind, type, at, lane, record_id) VALUES ('record', 'rejected', 'then', 'batch', 'gone');
      INSERT INTO jobs (id, model, state, kind, request_count, estimated_tokens, created_at, updated_at)
        VALUES ('j', 'm', 'succeeded', 'file', 1, 1, 'then', 'then');
      INSERT INTO job_records (job_id, record_id, attempt, prompt_hash, estimated_tokens) VALUES ('j', 'r', 0, 'h-old', 1);`);
    await reopenUpgraded(old, async (upgraded) => {
      expect(await upgraded.getText('h-old', 'r')).toEqual({
        hash: 'h-old',
        kind: 'prompt',
        body: '{"text":"old"}',
      });
      expect((await upgraded.getText('h-old'))?.body).toBe('{"text":"old"}');
      // Its events and job memberships are found by record after the indexes moved to the record's row.
      expect((await upgraded.listEvents({ recordId: 'r' })).map((e) => e.type)).toEqual(['done']);
      expect((await upgraded.listEvents({ recordId: 'gone' })).map((e) => e.type)).toEqual(['rejected']);
      expect((await upgraded.recordAttempts('r')).map((a) => a.jobId)).toEqual(['j']);
      // The totals of all runs start from the events already logged.
      expect((await upgraded.attemptGroups()).map((g) => [g.type, g.attempts, g.records])).toEqual([
        ['done', 1, 1],
        ['rejected', 1, 1],
      ]);
      // A new prompt of the same record and hash is kept beside the record; the old one stays.
      await upgraded.saveTexts([{ hash: 'h-old', recordId: 'r', kind: 'prompt', body: '{"text":"new"}' }]);
      expect((await upgraded.getText('h-old', 'r'))?.body).toBe('{"text":"new"}');
    });
  });

  it('moves the inputs of a store written before they left the records row (schema 15): same records, same rows, same links', async () => {
    const path = join(dir, 'schema15.db');
    const old = storeAtSchema(path, 15);
    const insert = old.prepare(
      `INSERT INTO records (rowid, id, chain_id, position, predecessor_id, vars_json, media_json, status, updated_at)
         VALUES (?, ?, 'c', ?, ?, ?, ?, ?, 'then')`,
    );
    insert.run(4294967297, 'c/1', 1, null, '{"text":"first page"}', '[]', 'done');
    insert.run(8589934593, 'c/2', 2, 'c/1', '{"text":"second page"}', '[{"path":"scan.png"}]', 'ready');
    old.exec(`INSERT INTO events (kind, type, at, lane, record_id, record_key)
      VALUES ('attempt', 'done', 'then', 'batch', 'c/1', 4294967297)`);
    await reopenUpgraded(old, async (upgraded) => {
      expect(await upgraded.getRecord('c/1')).toMatchObject({
        vars: { text: 'first page' },
        media: [],
        status: 'done',
      });
      expect((await upgraded.listReady(10)).map((record) => [record.id, record.vars, record.media])).toEqual([
        ['c/2', { text: 'second page' }, [{ path: 'scan.png' }]],
      ]);
      // The rows kept their rowids: what is keyed by them (events here) still finds its record.
      expect((await upgraded.listEvents({ recordId: 'c/1' })).map((e) => e.type)).toEqual(['done']);
    });
    const check = new Database(path);
    try {
      expect(check.prepare('SELECT rowid, id FROM records ORDER BY rowid').all()).toEqual([
        { rowid: 4294967297, id: 'c/1' },
        { rowid: 8589934593, id: 'c/2' },
      ]);
      const columns = (check.pragma('table_info(records)') as Array<{ name: string }>).map((c) => c.name);
      expect(columns).not.toContain('vars_json');
      expect(check.prepare('SELECT COUNT(*) FROM record_inputs').pluck().get()).toBe(2);
    } finally {
      check.close();
    }
  });

  it('counts the attempts of a store written before requests were told from records (schema 17) as a request each, as it did', async () => {
    const path = join(dir, 'schema17.db');
    // Logged before the totals existed (schema 11): migrations 12 and 13 fill them from the log.
    const old = storeAtSchema(path, 17, {
      atSchema: 11,
      sql: `INSERT INTO events (kind, type, at, run_id, lane, model, record_id, input_tokens)
        VALUES ('attempt', 'done', 'then', 1, 'batch', 'm', 'a', 5), ('attempt', 'done', 'then', 1, 'batch', 'm', 'b', 6),
               ('record', 'rejected', 'then', 1, 'batch', 'm', 'c', 0)`,
    });
    await reopenUpgraded(old, async (upgraded) => {
      const groups = await upgraded.attemptGroups();
      expect(groups.map((g) => [g.type, g.attempts, g.requests])).toEqual([
        ['done', 2, 2],
        ['rejected', 1, 0],
      ]);
      expect((await upgraded.runUsage(1)).requests).toBe(2);
      // New attempts add to them: a grouped request of two records counts once.
      const grouped = (record: string, requests: number) => ({
        ...emptyEvent('attempt', 'done', 0, 1, 'batch'),
        model: 'm',
        recordId: record,
        requests,
      });
      await upgraded.appendEvents([grouped('d', 1), grouped('e', 0)]);
      expect((await upgraded.attemptGroups()).map((g) => [g.type, g.attempts, g.requests])).toEqual([
        ['done', 4, 3],
        ['rejected', 1, 0],
      ]);
      expect((await upgraded.runUsage(1)).requests).toBe(3);
    });
  });

  it("fills each run's report totals from the log of a store written before they were kept (schema 18)", async () => {
    const path = join(dir, 'schema18.db');
    const old = storeAtSchema(path, 18, {
      atSchema: 17,
      sql: `INSERT INTO events (kind, type, at, run_id, lane, model, job_id, job_name, record_id, cause, input_tokens, latency_ms, cost_usd, requests)
        VALUES ('attempt', 'done', 'then', 1, 'batch', 'm', 'j1', NULL, 'a', NULL, 5, 3000, 0.5, 1),
               ('attempt', 'retry', 'then', 1, 'batch', 'm', 'j1', 'batches/j1', 'b', 'timeout', 6, 3000, 0.25, 1),
               ('attempt', 'done', 'then', 2, 'batch', 'm', 'j2', 'batches/j2', 'b', NULL, 7, 8000, 0.125, 0),
               ('attempt', 'done', 'then', 2, 'batch', 'm', 'j2', 'batches/j2', 'b', NULL, 7, 8000, 0.125, 1),
               ('record', 'rejected', 'then', 2, 'batch', 'm', NULL, NULL, 'c', 'invalid_record', 0, NULL, NULL, NULL)`,
    });
    await reopenUpgraded(old, async (upgraded) => {
      expect((await upgraded.attemptGroups(1)).map((g) => [g.type, g.cause, g.attempts, g.records])).toEqual([
        ['done', null, 1, 1],
        ['retry', 'timeout', 1, 1],
      ]);
      expect(
        (await upgraded.attemptGroups(2)).map((g) => [
          g.type,
          g.attempts,
          g.requests,
          g.records,
          g.inputTokens,
        ]),
      ).toEqual([
        ['done', 2, 1, 1, 14],
        ['rejected', 1, 0, 1, 0],
      ]);
      expect(await upgraded.jobAttempts(2)).toEqual([
        expect.objectContaining({
          jobId: 'j2',
          jobName: 'batches/j2',
          attempts: 2,
          requests: 1,
          done: 2,
          latencyMs: 8000,
        }),
      ]);
      expect(await upgraded.jobAttempts(1)).toEqual([
        expect.objectContaining({ jobId: 'j1', jobName: 'batches/j1', attempts: 2, done: 1, costUsd: 0.75 }),
      ]);
      expect((await upgraded.causeCounts(2)).map((c) => [c.cause, c.attempts, c.dead])).toEqual([
        ['invalid_record', 1, 1],
      ]);
    });
  });

  it("reads a lane's latest latencies, keeps the attempt totals and reads a run's failures through indexes, never reading the inference log through", async () => {
    const path = join(dir, 'latencies.db');
    await new SqliteStore({ path }).close();
    const db = new Database(path);
    try {
      const plan = (sql: string, ...values: unknown[]) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as Array<{ detail: string }>)
          .map((row) => row.detail)
          .join('; ');
      // The jobs table is small; the events are reached through a job's own index entries.
      expect(plan(RECENT_JOB_LATENCIES, 256)).toMatch(/SEARCH events USING INDEX events_by_job/);
      expect(plan(RECENT_JOB_LATENCIES, 256)).not.toMatch(/SCAN events/);
      // Adding a transaction's events to the totals reads those events by id, and each record's
      // earlier events through the record's own index entries.
      expect(plan(ADD_RANGE, 1, 2)).toMatch(/SEARCH e USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/);
      expect(plan(ADD_RANGE, 1, 2)).toMatch(
        /SEARCH o USING INDEX events_by_record \(record_key=\? AND id<\?\)/,
      );
      expect(plan(ADD_RANGE, 1, 2)).toMatch(/SEARCH o USING INDEX events_by_unknown_record/);
      expect(plan(ADD_RANGE, 1, 2)).not.toMatch(/SCAN/);
      // So do a run's totals, with its records counted once per run.
      for (const add of [ADD_RUN_RANGE, ADD_RUN_JOBS])
        expect(plan(add, 1, 2)).toMatch(
          /SEARCH (e|events) USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/,
        );
      expect(plan(ADD_RUN_RANGE, 1, 2)).toMatch(
        /SEARCH o USING INDEX events_by_record \(record_key=\? AND id<\?\)/,
      );
      for (const add of [ADD_RUN_RANGE, ADD_RUN_JOBS]) expect(plan(add, 1, 2)).not.toMatch(/SCAN/);
      // A run's failures per cause are read from an index of failed attempts alone, not from every
      // event of the run (a million-record run's report read its million successes to find none).
      expect(plan(CAUSE_COUNTS('AND run_id = ?'), 1)).toMatch(
        /SEARCH events USING INDEX events_by_cause \(run_id=\?/,
      );
      expect(plan(RECENT_SYNC_LATENCIES, 'flex', 256)).toMatch(
        /SEARCH events USING INDEX events_by_sync_attempt \(lane=\?\)/,
      );
    } finally {
      db.close();
    }
  });
  it('pages through many records of one status, and through chains, as one listing would', async () => {
    const store = new SqliteStore({ path: join(dir, 'pages.db') });
    try {
      // More done records than MANY_WITH_STATUS (pages walk the id order), a few ready ones (pages go
      // through the status index), and chains of three (pages keyed by chain and position).
      const flat = MANY_WITH_STATUS + 300;
      const ids = Array.from(
        { length: flat },
        (_, index) => `f${String((index * 7919) % flat).padStart(5, '0')}`,
      );
      async function* records() {
        for (const id of ids) yield { id, chainId: id, position: 0, vars: {}, media: [] };
        for (let chain = 0; chain < 40; chain++)
          for (const position of [3, 1, 2])
            yield { id: `c${chain}/${position}`, chainId: `c${chain}`, position, vars: {}, media: [] };
      }
      await store.syncRecords(() => records());
      await store.linkChains();
      await store.refreshReadiness();
      const finished = ids.slice(0, flat - 5);
      const members = finished.map((recordId) => ({
        recordId,
        attempt: 0,
        promptHash: 'h',
        estimatedTokens: 1,
      }));
      await store.createJobIntent({ id: 'job', model: 'm', kind: 'file', members });
      const successes = finished.map((recordId) => ({
        recordId,
        jobId: 'job',
        inputTokens: 1,
        outputTokens: 1,
      }));
      expect(await store.completeRecords(successes)).toBe(finished.length);

      async function paged(filter: RecordFilter, size: number, key: 'id' | 'chain'): Promise<string[]> {
        const listed: string[] = [];
        for (let last: StoredRecord | undefined; ;) {
          const after =
            last === undefined
              ? {}
              : key === 'id'
                ? { afterId: last.id }
                : { afterChain: { chainId: last.chainId, position: last.position } };
          const page = await store.listRecords({ ...filter, ...after, limit: size });
          listed.push(...page.map((record) => record.id));
          last = page.at(-1);
          if (page.length < size) return listed;
        }
      }
      const sorted = (list: string[]) => [...list].sort();
      const doneIds = new Set(finished);
      expect(await paged({ status: 'done' }, 500, 'id')).toEqual(sorted(finished));
      const ready = (await store.listRecords({ status: 'ready' })).map((record) => record.id);
      expect(ready).toHaveLength(5 + 40);
      expect(await paged({ status: 'ready' }, 7, 'id')).toEqual(sorted(ready));
      const inChainOrder = (await store.listRecords({ order: 'chain' })).map((record) => record.id);
      expect(inChainOrder.slice(0, 3)).toEqual(['c0/1', 'c0/2', 'c0/3']);
      expect(await paged({ order: 'chain' }, 13, 'chain')).toEqual(inChainOrder);
      expect(await paged({ status: 'done', order: 'chain' }, 500, 'chain')).toEqual(
        inChainOrder.filter((id) => doneIds.has(id)),
      );
    } finally {
      await store.close();
    }
  });
});
