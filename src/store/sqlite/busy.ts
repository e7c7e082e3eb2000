import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

/** SQLite's "database is locked": another connection kept the write lock past the busy timeout. */
export function isBusy(error: unknown): boolean {
  return String((error as { code?: unknown } | null)?.code).startsWith('SQLITE_BUSY');
}

/** What SQLite calls "database is locked", with the file and what to do about it. */
export function storeBusy(db: Database.Database, error: unknown): StoreError {
  const waited = db.pragma('busy_timeout', { simple: true }) as number;
  return new StoreError(
    'STORE_BUSY',
    `Another process kept the state store ${db.name} locked for writing for more than ${waited / 1000} s, ` +
      'so this write gave up and changed nothing. Is a tool holding the file in a long transaction (an ' +
      'SQLite browser, a backup)? Run again once it has let go: nothing is lost.',
    { cause: error },
  );
}

/**
 * Makes `statement` fail with STORE_BUSY instead of SQLite's bare "database is locked". Transactions
 * wait for the lock when they begin (writeTransaction); a single statement outside one (renewing
 * the lease, releasing a job's claims) takes it itself, and gives up after the same busy timeout.
 */
export function reportBusyAsStoreError(
  db: Database.Database,
  statement: Database.Statement,
): Database.Statement {
  // Not `iterate`: its rows are read after it returns, and reads never wait for the write lock in WAL mode.
  for (const method of ['run', 'get', 'all'] as const) {
    const call = statement[method] as (...args: unknown[]) => unknown;
    Object.defineProperty(statement, method, {
      value(this: Database.Statement, ...args: unknown[]): unknown {
        try {
          return call.apply(this, args);
        } catch (error) {
          throw isBusy(error) ? storeBusy(db, error) : error;
        }
      },
    });
  }
  return statement;
}
