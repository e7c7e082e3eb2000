import type Database from 'better-sqlite3';
import { reportBusyAsStoreError } from './busy.js';

/** Distinct SQL texts kept prepared; the dynamic queries (filters, paging) stay far below it. */
const CACHED_STATEMENTS = 256;

/**
 * Makes `db.prepare` return a statement prepared once per SQL text: preparing costs more than running
 * most of the store's statements, and the hot ones run once per record. A cached statement is handed
 * out with its modes reset (pluck, raw, expand off), so each caller sets the modes it needs; one still
 * iterating (busy) is never handed out again, a fresh one is prepared instead. Every statement
 * reports a lock held past the busy timeout as STORE_BUSY (see reportBusyAsStoreError).
 */
export function cacheStatements(db: Database.Database): void {
  const prepareRaw = db.prepare.bind(db);
  const prepare = (source: string): Database.Statement => reportBusyAsStoreError(db, prepareRaw(source));
  const cache = new Map<string, Database.Statement>();
  const cached = (source: string): Database.Statement => {
    const statement = cache.get(source);
    if (statement && !statement.busy) {
      if (statement.reader) statement.pluck(false).raw(false).expand(false);
      return statement;
    }
    if (statement) return prepare(source);
    const prepared = prepare(source);
    if (cache.size >= CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
    cache.set(source, prepared);
    return prepared;
  };
  db.prepare = cached as typeof db.prepare;
}
