import type Database from 'better-sqlite3';
import type { WorkloadRecord } from '../../workload/record.js';
import type { SyncOptions, SyncSummary } from '../store.js';
import { duplicateIdError, duplicatePositionError } from '../../workload/repeats.js';
import { writeTransaction } from './database.js';
import { CLEAR_LOCATION } from './output-index.js';
import { isRowidTaken, RowPlacement } from './row-placement.js';
import { compareCodeUnits } from '../../code-unit-order.js';

/** Rows written per transaction while streaming records or output ids into the store. */
const SYNC_BATCH = 1000;

/**
 * Upserts the workload's records in batches; `stamp` is read once per batch for `updated_at`.
 * Ids and (chain, position) pairs must be unique in one sync: a repeat is refused naming both places
 * instead of silently replacing the first record. Batches before the repeat stay written: the next
 * sync rewrites them from the corrected source.
 *
 * The first sync of a store (no record yet) only inserts, and lets the table find repeats: a
 * repeated id breaks its primary key, and a repeated position its placed rowid (see RowPlacement;
 * records it cannot place are checked as below). Where the first of a repeat was is not kept, so
 * on a repeat the source is read again (`open` is called a second time) the checked way, which
 * names both places. Later syncs upsert, and check every record against the temp tables `sync_ids`
 * and `sync_positions` (where each id and place was seen, on disk, never in memory).
 */
export async function syncRecords(
  db: Database.Database,
  open: () => AsyncIterable<WorkloadRecord>,
  stamp: () => string,
  options: SyncOptions = {},
): Promise<SyncSummary> {
  const whole = options.wholeSource ?? false;
  // New records counted by the table's size, not by a lookup per record.
  const countRecords = db.prepare('SELECT COUNT(*) FROM records').pluck();
  const before = Number(countRecords.get());
  let pass: { seen: number; linked: boolean; dropped: number };
  try {
    pass = await syncPass(db, open(), stamp, before === 0 ? 'first' : 'checked', whole);
  } catch (error) {
    if (!(error instanceof RepeatInFirstSync)) throw error;
    pass = await syncPass(db, open(), stamp, 'checked', whole);
  }
  // Records dropped by the pass were in the table before it: the growth less them is what was new.
  return {
    seen: pass.seen,
    inserted: Number(countRecords.get()) - before + pass.dropped,
    linked: pass.linked,
    dropped: pass.dropped,
  };
}

/** A first sync ran into a repeat it cannot name: the checked pass reads the source again to name it. */
class RepeatInFirstSync extends Error {}

/**
 * One pass over the source; returns how many records it saw, whether it left them all linked (a
 * first pass in which every chain came in one run), and how many unsent records it dropped because
 * the source no longer has them.
 */
async function syncPass(
  db: Database.Database,
  records: AsyncIterable<WorkloadRecord>,
  stamp: () => string,
  mode: 'first' | 'checked',
  whole: boolean,
): Promise<{ seen: number; linked: boolean; dropped: number }> {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS sync_ids (id TEXT PRIMARY KEY, origin TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS sync_positions (
      chain_id TEXT NOT NULL, position NUMERIC NOT NULL, origin TEXT NOT NULL,
      PRIMARY KEY (chain_id, position)) WITHOUT ROWID;
    DELETE FROM sync_ids; DELETE FROM sync_positions;
  `);
  const claimId = db.prepare('INSERT INTO sync_ids (id, origin) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const firstOfId = db.prepare('SELECT origin FROM sync_ids WHERE id = ?').pluck();
  const claimPosition = db.prepare(
    'INSERT INTO sync_positions (chain_id, position, origin) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const firstAtPosition = db
    .prepare('SELECT origin FROM sync_positions WHERE chain_id = ? AND position = ?')
    .pluck();
  // The row, then its inputs beside it (see migration 16): each written only when it changed, so a
  // sync of an edited source rewrites the records it edited, not every record. A row is looked up
  // first and left alone when its chain and position are the same, its inputs compared with the
  // stored text: the upsert cost 12 µs a record even when it changed nothing, a lookup 3-6 µs (a
  // touched million-record source re-synced in 30-38 s, now 19-24 s).
  const existing = db.prepare('SELECT rowid AS key, chain_id AS chainId, position FROM records WHERE id = ?');
  const upsert = db
    .prepare(
      `INSERT INTO records (rowid, id, chain_id, position, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET chain_id = excluded.chain_id, position = excluded.position
         RETURNING rowid`,
    )
    .pluck();
  const inputsOf = db.prepare('SELECT vars_json, media_json FROM record_inputs WHERE record_key = ?');
  const upsertInputs = db.prepare(
    `INSERT INTO record_inputs (record_key, vars_json, media_json) VALUES (?, ?, ?)
       ON CONFLICT (record_key) DO UPDATE SET vars_json = excluded.vars_json, media_json = excluded.media_json`,
  );
  // A first sync only inserts: no conflict handling, no RETURNING; each record comes linked as its
  // chain's run in the source says (see ChainRun). Inputs replace a leftover row of the same key,
  // should one exist.
  const insertNew = db.prepare(
    `INSERT INTO records (rowid, id, chain_id, position, predecessor_id, remaining, status, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertInputs = db.prepare(
    'INSERT OR REPLACE INTO record_inputs (record_key, vars_json, media_json) VALUES (?, ?, ?)',
  );
  const placement = new RowPlacement(db);
  const first = mode === 'first';
  let seen = 0;
  const insertFirst = (
    rowid: number | null,
    record: WorkloadRecord,
    link: RunLink,
    at: string,
  ): number | bigint => {
    try {
      return insertNew.run(
        rowid,
        record.id,
        record.chainId,
        record.position,
        link.predecessorId,
        link.remaining,
        link.predecessorId === null ? 'ready' : 'blocked',
        at,
      ).lastInsertRowid;
    } catch (error) {
      // Into an empty table, only a repeat breaks a constraint: its id, or the rowid its place gives.
      if (isConstraint(error)) throw new RepeatInFirstSync();
      throw error;
    }
  };
  const upsertChecked = (rowid: number | null, values: unknown[]): number | bigint => {
    try {
      return upsert.get(rowid, ...values) as number | bigint;
    } catch (error) {
      // The place is another row's (see RowPlacement): SQLite picks one instead.
      if (rowid === null || !isRowidTaken(error)) throw error;
      return upsert.get(null, ...values) as number | bigint;
    }
  };
  /** A first sync's record: the table finds a repeated id, and the rowid a repeated place. */
  const writeFirst = (record: WorkloadRecord, link: RunLink, at: string) => {
    const rowid = placement.rowidFor(record.chainId, record.position);
    // A record it cannot place has its place checked here (where it was first is not noted: the
    // checked pass names it).
    if (rowid === null && claimPosition.run(record.chainId, record.position, '').changes === 0)
      throw new RepeatInFirstSync();
    const key = insertFirst(rowid, record, link, at);
    insertInputs.run(key, JSON.stringify(record.vars), JSON.stringify(record.media));
  };
  const writeChecked = (record: WorkloadRecord, at: string) => {
    const origin = record.origin ?? `record ${seen} of the source`;
    if (claimId.run(record.id, origin).changes === 0)
      throw duplicateIdError(record.id, String(firstOfId.get(record.id)), origin);
    if (claimPosition.run(record.chainId, record.position, origin).changes === 0)
      throw duplicatePositionError(
        record,
        String(firstAtPosition.get(record.chainId, record.position)),
        origin,
      );
    const row = existing.get(record.id) as { key: number; chainId: string; position: number } | undefined;
    // Bound by position: cheaper than by name, once per record of the source.
    const key =
      row !== undefined && row.chainId === record.chainId && row.position === record.position
        ? row.key
        : upsertChecked(placement.rowidFor(record.chainId, record.position), [
            record.id,
            record.chainId,
            record.position,
            at,
          ]);
    const vars = JSON.stringify(record.vars);
    const media = JSON.stringify(record.media);
    // Unchanged inputs (most of a re-synced source) are compared here, not written.
    const stored = row === undefined ? undefined : (inputsOf.get(key) as StoredInputs | undefined);
    if (stored?.vars_json !== vars || stored.media_json !== media) upsertInputs.run(key, vars, media);
  };
  const run = new ChainRun();
  const writeBatch = writeTransaction(db, (batch: WorkloadRecord[], last: boolean) => {
    const at = stamp();
    for (const record of batch) {
      seen++;
      if (!first) writeChecked(record, at);
      else for (const [held, link] of run.add(record)) writeFirst(held, link, at);
    }
    if (first && last) for (const [held, link] of run.end()) writeFirst(held, link, at);
    placement.save();
  });
  let batch: WorkloadRecord[] = [];
  let dropped = 0;
  try {
    for await (const record of records) {
      batch.push(record);
      if (batch.length >= SYNC_BATCH) {
        writeBatch(batch, false);
        batch = [];
      }
    }
    writeBatch(batch, true);
    // Only after the whole source was read: a pass cut short by an error drops nothing.
    if (whole && !first) dropped = dropUnsentMissing(db);
  } finally {
    db.exec('DELETE FROM sync_ids; DELETE FROM sync_positions;');
  }
  // A chain listed in two runs found its rows of the first one when placed (the table was empty).
  return { seen, linked: first && run.whole && placement.chainsFoundAgain === 0, dropped };
}

/**
 * Drops the records the source no longer has (removed from its file or folder, or left out by a
 * narrower `filters` or allow-list) that were never sent or are waiting to be sent again (ready or
 * blocked), with their inputs; returns how many. They were sent and billed by the next run as if
 * still wanted. A record in flight is left to finish (its answer is paid for either way), a done or
 * dead-lettered one keeps its output and its state. Its events, job memberships and archived
 * prompts stay, referring to it by id (or its prompts by hash) only (as to an id the store has no record of), so that a record added
 * later at the same row never inherits them. The caller links the chains again (the pass says they
 * are not linked), so a successor of a dropped record waits on the record before it.
 */
function dropUnsentMissing(db: Database.Database): number {
  return writeTransaction(db, () => {
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS sync_dropped (key INTEGER PRIMARY KEY);
      DELETE FROM sync_dropped;
      INSERT INTO sync_dropped
        SELECT rowid FROM records r
         WHERE r.status IN ('ready', 'blocked') AND NOT EXISTS (SELECT 1 FROM sync_ids s WHERE s.id = r.id);
    `);
    const dropped = Number(db.prepare('SELECT COUNT(*) FROM sync_dropped').pluck().get());
    if (dropped > 0)
      db.exec(`
        UPDATE events SET record_key = NULL WHERE record_key IN (SELECT key FROM sync_dropped);
        UPDATE job_records SET record_key = NULL WHERE record_key IN (SELECT key FROM sync_dropped);
        -- Its archived prompts become texts of no record (found by hash), or go where one is already.
        UPDATE OR IGNORE texts SET record_key = NULL WHERE record_key IN (SELECT key FROM sync_dropped);
        DELETE FROM texts WHERE record_key IN (SELECT key FROM sync_dropped);
        DELETE FROM record_inputs WHERE record_key IN (SELECT key FROM sync_dropped);
        DELETE FROM records WHERE rowid IN (SELECT key FROM sync_dropped);
      `);
    db.exec('DELETE FROM sync_dropped');
    return dropped;
  })();
}

/** A record's inputs as stored beside its row. */
interface StoredInputs {
  vars_json: string;
  media_json: string;
}

/** A record's link as far as its run shows: its predecessor, and the records left from it on. */
interface RunLink {
  predecessorId: string | null;
  remaining: number;
}

/** Records one run may hold before they are written unlinked (a chain of a million pages). */
const RUN_LIMIT = 10_000;

/**
 * A first sync links each chain as it goes, from the run of records the source lists it in (sources
 * list a chain's pages together), so linkChains afterwards finds each row already as it would make
 * it and rewrites none, and the chain heads are written ready (at a million records, linking
 * rewrote every row and moved its index entries a second time). It is only a head start: linkChains
 * is still the truth, and puts right a chain the source lists in several runs, or one longer than
 * RUN_LIMIT; only when neither happened does the sync say `linked`, and linkChains is skipped.
 */
class ChainRun {
  private held: WorkloadRecord[] = [];
  /** False once a run was cut at RUN_LIMIT: its chain goes on in the next run. */
  whole = true;

  /** Takes a record; returns the previous run, linked, when this record starts another chain. */
  add(record: WorkloadRecord): Array<[WorkloadRecord, RunLink]> {
    const previous = this.held[0];
    if (previous === undefined) {
      this.held.push(record);
      return [];
    }
    const cut = previous.chainId === record.chainId && this.held.length >= RUN_LIMIT;
    if (cut) this.whole = false;
    const out = cut || previous.chainId !== record.chainId ? this.end() : [];
    this.held.push(record);
    return out;
  }

  /** The run held, linked in chain order (position, then id, as linkChains orders it). */
  end(): Array<[WorkloadRecord, RunLink]> {
    const run = this.held;
    this.held = [];
    run.sort((a, b) => a.position - b.position || compareCodeUnits(a.id, b.id));
    return run.map((record, index) => [
      record,
      {
        predecessorId: index === 0 ? null : (run[index - 1] as WorkloadRecord).id,
        remaining: run.length - index,
      },
    ]);
  }
}

function isConstraint(error: unknown): boolean {
  return String((error as { code?: unknown } | null)?.code).startsWith('SQLITE_CONSTRAINT');
}

/** Sets each record's predecessor and the number of records left in its chain (itself included). */
export function linkChains(db: Database.Database): void {
  db.exec(`
      WITH ordered AS (
        SELECT id,
          LAG(id) OVER chain AS predecessor,
          COUNT(*) OVER (PARTITION BY chain_id) - ROW_NUMBER() OVER chain + 1 AS remaining
        FROM records WINDOW chain AS (PARTITION BY chain_id ORDER BY position, id)
      )
      UPDATE records SET predecessor_id = ordered.predecessor, remaining = ordered.remaining
      FROM ordered WHERE ordered.id = records.id
        AND (records.predecessor_id IS NOT ordered.predecessor OR records.remaining <> ordered.remaining)
    `);
}

/** Fills the temp table `output_ids` with the ids found in the output files. */
export async function collectOutputIds(db: Database.Database, doneIds: AsyncIterable<string>): Promise<void> {
  // The output files are the truth: collect them in a temp table, then align record states.
  db.exec('CREATE TEMP TABLE IF NOT EXISTS output_ids (id TEXT PRIMARY KEY); DELETE FROM output_ids;');
  const insert = db.prepare('INSERT OR IGNORE INTO output_ids (id) VALUES (?)');
  const insertBatch = writeTransaction(db, (ids: string[]) => {
    for (const id of ids) insert.run(id);
  });
  let batch: string[] = [];
  for await (const id of doneIds) {
    batch.push(id);
    if (batch.length >= SYNC_BATCH) {
      insertBatch(batch);
      batch = [];
    }
  }
  insertBatch(batch);
}

/** Marks records with output as done and reopens done records without it, then empties `output_ids`. */
export function alignDoneWithOutputIds(
  db: Database.Database,
  at: string,
): { markedDone: number; reopened: number } {
  return writeTransaction(db, () => {
    const markedDone = db
      .prepare(
        `UPDATE records SET status = 'done', job_id = NULL, ${CLEAR_LOCATION}, updated_at = ?
           WHERE status <> 'done' AND status <> 'in_flight' AND redo = 0 AND id IN (SELECT id FROM output_ids)`,
      )
      .run(at).changes;
    const reopened = db
      .prepare(
        `UPDATE records SET status = 'blocked', ${CLEAR_LOCATION}, updated_at = ?
           WHERE status = 'done' AND id NOT IN (SELECT id FROM output_ids)`,
      )
      .run(at).changes;
    db.exec('DELETE FROM output_ids');
    return { markedDone, reopened };
  })();
}

/** Sends done records back to blocked with the redo mark (readiness follows); returns how many. */
export function markForRedo(db: Database.Database, ids: readonly string[], at: string): number {
  const mark = db.prepare(
    `UPDATE records SET status = 'blocked', redo = 1, updated_at = ? WHERE id = ? AND status = 'done'`,
  );
  return writeTransaction(db, () => ids.reduce((sum, id) => sum + mark.run(at, id).changes, 0))();
}
