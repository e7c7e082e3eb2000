import type Database from 'better-sqlite3';

/** Ids inserted per statement when a scope is set (well under SQLite's 32766 parameters). */
const INSERT_GROUP = 500;

/**
 * A run over a selection (`run --only`, `--filter`, `--limit`): the ids the connection's ready list
 * and counts are narrowed to. It lives in a TEMP table, which belongs to this connection alone, so a
 * crash, another process or the next run never inherits a narrowed view of the workload.
 */
export function setRecordScope(db: Database.Database, ids: readonly string[] | null): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS scoped_records (id TEXT PRIMARY KEY) WITHOUT ROWID');
  // Deferred, not writeTransaction: it writes the connection's own TEMP table only, so it takes no
  // lock on the shared database and must not wait for another process's writes.
  // eslint-disable-next-line no-restricted-syntax
  db.transaction(() => {
    db.prepare('DELETE FROM temp.scoped_records').run();
    if (ids === null) return;
    for (let start = 0; start < ids.length; start += INSERT_GROUP) {
      const group = ids.slice(start, start + INSERT_GROUP);
      db.prepare(
        `INSERT OR IGNORE INTO temp.scoped_records (id) VALUES ${group.map(() => '(?)').join(', ')}`,
      ).run(...group);
    }
  })();
}

/** The SQL condition a query on `records <alias>` adds while a scope is set (empty otherwise). */
export function scopeCondition(scoped: boolean, alias: string): string {
  return scoped ? ` AND ${alias}.id IN (SELECT id FROM temp.scoped_records)` : '';
}
