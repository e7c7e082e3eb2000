// The inference log's row cost in isolation (issue #9): CPU per `events` row logged into a real
// store file (migrated, with the 20,000 records of the applying stage), in transactions of 5,000 as
// the applying stage's completions log them, for variants of the table and of the statement.
// `node --import tsx bench/scale/event-rows.ts [events] [rounds]` prints a JSON line per variant and
// round, then each variant's median; VARIANT=<prefix> runs only the variants named so.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, writeTransaction } from '../../src/store/sqlite/database.js';
import { insertEvents } from '../../src/store/sqlite/event-log.js';
import {
  ADD_RANGE,
  ADD_RUN_JOBS,
  ADD_RUN_RANGE,
  ADD_RUN_USAGE,
  addToEventTotals,
} from '../../src/store/sqlite/attempt-totals.js';
import { RECORD_ROW } from '../../src/store/sqlite/row-placement.js';
import type { InferenceEvent } from '../../src/store/event-log.js';

const RECORDS = 20_000;
const TRANSACTION = 5_000;

/** An attempt's event as the applying stage logs a batch success (its output kept in the shard). */
function event(index: number): InferenceEvent {
  const record = index % RECORDS;
  const chain = Math.floor(record / 20);
  const page = record % 20;
  const at = new Date(1_765_000_000_000 + index).toISOString();
  const job = `bench-${page}-${Math.floor(chain / 5000)}`;
  return {
    kind: 'attempt',
    type: 'done',
    at,
    runId: 1,
    lane: 'batch',
    jobId: job,
    jobName: `batches/${job}`,
    requestId: `book-${chain}-page-${page}`,
    recordId: `book-${chain}-page-${page}`,
    chainId: `book-${chain}`,
    position: page,
    model: 'gemini-2.5-flash',
    promptName: 'catalog',
    promptVersion: 'v1',
    promptHash: 'a'.repeat(64),
    contextDigest: 'b'.repeat(64),
    generationConfigHash: 'c'.repeat(64),
    attempt: 0,
    cause: null,
    message: null,
    raw: null,
    stack: null,
    outputLocation: { shard: 0, offset: index * 120, length: 120 },
    finishReason: 'STOP',
    inputTokens: 180,
    outputTokens: 40,
    thoughtsTokens: 0,
    costUsd: 0.0000325,
    latencyMs: 3000,
    startedAt: at,
    finishedAt: at,
    requests: 1,
  };
}

/** A store file at the current schema holding the applying stage's records (RECORD_ROW finds rows). */
function freshStore(path: string): Database.Database {
  const db = openDatabase(path);
  const insert = db.prepare(
    `INSERT INTO records (id, chain_id, position, predecessor_id, status, updated_at)
       VALUES (?, ?, ?, ?, 'in_flight', 'x')`,
  );
  writeTransaction(db, () => {
    for (let i = 0; i < RECORDS; i++) {
      const [chain, page] = [Math.floor(i / 20), i % 20];
      const predecessor = page === 0 ? null : `book-${chain}-page-${page - 1}`;
      insert.run(`book-${chain}-page-${page}`, `book-${chain}`, page, predecessor);
    }
  })();
  return db;
}

type Insert = (db: Database.Database, events: readonly InferenceEvent[]) => void;
interface Variant {
  prepare?: (db: Database.Database) => void;
  insert: Insert;
}

/** A reader of a column of `events` from an event: its field in camelCase; the output by its location. */
function getterOf(column: string): (event: InferenceEvent) => unknown {
  if (column === 'output_json') return () => null;
  if (column.startsWith('output_') && column !== 'output_tokens') {
    const part = column.slice('output_'.length) as keyof NonNullable<InferenceEvent['outputLocation']>;
    return (event) => event.outputLocation?.[part] ?? null;
  }
  const field = column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return (event) => (event as unknown as Record<string, unknown>)[field] ?? null;
}

/** The columns `insertEvents` writes, read from the table. */
function eventColumns(db: Database.Database): string[] {
  const all = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('events') as string[];
  return all.filter((name) => name !== 'id' && name !== 'record_key');
}

/** Inserts `rowsPer` events per statement (the rest one by one), then adds them to the totals. */
function rowsPerStatement(rowsPer: number, totals: Insert | null, columns?: readonly string[]): Insert {
  return (db, events) => {
    const names = columns ?? eventColumns(db);
    const row = `(${names.map(() => '?').join(', ')}, ${RECORD_ROW})`;
    const statement = (rows: number) =>
      db.prepare(
        `INSERT INTO events (${names.join(', ')}, record_key) VALUES ${Array(rows).fill(row).join(', ')}`,
      );
    const many = statement(rowsPer);
    const one = statement(1);
    const getters = [...names.map(getterOf), (e: InferenceEvent) => e.recordId];
    const values = (from: number, rows: number) => {
      const bound = new Array<unknown>(rows * getters.length);
      let at = 0;
      for (let r = from; r < from + rows; r++) for (const get of getters) bound[at++] = get(events[r]!);
      return bound;
    };
    let i = 0;
    for (; i + rowsPer <= events.length; i += rowsPer) many.run(values(i, rowsPer));
    for (; i < events.length; i++) one.run(values(i, 1));
    totals?.(db, events);
  };
}

/** The totals of the ids just inserted (the last `events.length` rows), as insertEvents adds them. */
function totalsOfLast(sql?: readonly string[]): Insert {
  return (db, events) => {
    const last = db.prepare('SELECT max(id) FROM events').pluck().get() as number;
    const first = last - events.length + 1;
    if (!sql) return addToEventTotals(db, first, last);
    for (const statement of sql) db.prepare(statement).run(first, last);
  };
}

/** The totals without counting distinct records (the per-event NOT EXISTS over the record's events). */
const WITHOUT_RECORD_COUNT = [ADD_RANGE, ADD_RUN_USAGE, ADD_RUN_RANGE, ADD_RUN_JOBS].map((sql) =>
  sql.replace(/SUM\(CASE\s+WHEN e\.record_id IS NULL[\s\S]*?END\)/, 'SUM(0)'),
);

/**
 * The per-job and per-prompt fields, the same for every attempt of a job, left out of every row
 * (they would be kept once per job). The prompt's hash is the rendered prompt's: a record's own.
 */
const withoutConstants = (events: readonly InferenceEvent[]) =>
  events.map((e) => ({
    ...e,
    model: null,
    jobName: null,
    promptName: null,
    promptVersion: null,
    generationConfigHash: null,
  }));

/** Rebuilds `events` as `id INTEGER PRIMARY KEY` (rowid reuse after deletes allowed), same indexes. */
function noAutoincrement(db: Database.Database): void {
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'events'").pluck().get() as string;
  const indexes = db
    .prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index' AND sql IS NOT NULL")
    .pluck()
    .all() as string[];
  db.exec(`DROP TABLE events; ${sql.replace('AUTOINCREMENT', '')}; ${indexes.join('; ')};`);
}

const NARROW = ['kind', 'type', 'at', 'run_id', 'lane', 'record_id', 'output_shard', 'output_offset'];

const variants: Record<string, Variant> = {
  'a: as today (insertEvents: rows + totals)': { insert: insertEvents },
  'a0: the rows alone (no totals)': { insert: rowsPerStatement(1, null) },
  'a2: as a, rows built by this bench': { insert: rowsPerStatement(1, totalsOfLast()) },
  'a1: the totals without counting distinct records': {
    insert: rowsPerStatement(1, totalsOfLast(WITHOUT_RECORD_COUNT)),
  },
  'b: no AUTOINCREMENT': { prepare: noAutoincrement, insert: insertEvents },
  'c10: 10 rows per INSERT': { insert: rowsPerStatement(10, totalsOfLast()) },
  'c50: 50 rows per INSERT': { insert: rowsPerStatement(50, totalsOfLast()) },
  'd: per-job/prompt fields NULL': { insert: (db, events) => insertEvents(db, withoutConstants(events)) },
  'bd: no AUTOINCREMENT, per-job/prompt fields NULL': {
    prepare: noAutoincrement,
    insert: (db, events) => insertEvents(db, withoutConstants(events)),
  },
  'e1: the rows alone, 8 columns bound': { insert: rowsPerStatement(1, null, NARROW) },
};

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 50_000);
  const rounds = Number(process.argv[3] ?? 5);
  const events = Array.from({ length: total }, (_, i) => event(i));
  const only = process.env.VARIANT;
  const figures = new Map<string, number[]>();
  // Round 0 warms the JIT and the page cache; it is printed but not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const [name, variant] of Object.entries(variants)) {
      if (only && !name.startsWith(only)) continue;
      const root = await mkdtemp(join(tmpdir(), 'wb-event-rows-'));
      try {
        const path = join(root, 'state.db');
        const db = freshStore(path);
        variant.prepare?.(db);
        db.pragma('wal_checkpoint(TRUNCATE)');
        const before = (await stat(path)).size;
        const start = process.cpuUsage();
        for (let from = 0; from < total; from += TRANSACTION) {
          const slice = events.slice(from, from + TRANSACTION);
          writeTransaction(db, () => variant.insert(db, slice))();
        }
        const used = process.cpuUsage(start);
        const cpuUsPerRow = (used.user + used.system) / total;
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        const bytesPerRow = Math.round(((await stat(path)).size - before) / total);
        if (round > 0) figures.set(name, [...(figures.get(name) ?? []), cpuUsPerRow]);
        console.log(
          JSON.stringify({ variant: name, round, cpuUsPerRow: +cpuUsPerRow.toFixed(2), bytesPerRow }),
        );
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    }
  }
  for (const [name, values] of figures) {
    const sorted = [...values].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      JSON.stringify({
        variant: name,
        medianCpuUsPerRow: +median.toFixed(2),
        range: [sorted[0], sorted.at(-1)],
      }),
    );
  }
}

await main();
