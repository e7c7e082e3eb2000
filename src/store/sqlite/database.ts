import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { describeError } from '../../errors.js';
import { makeFolderSync } from '../../make-folder.js';
import { assertSupportedNode } from '../../node-version.js';
import { StoreError } from '../errors.js';
import { isBusy, storeBusy } from './busy.js';
import { MIGRATIONS } from './migrations.js';
import { cacheStatements } from './statement-cache.js';

/** How long a write waits for another process's write to end before it fails with STORE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** Opens (creating when missing) the database file in WAL mode and brings its schema up to date. */
export function openDatabase(path: string, busyTimeoutMs = BUSY_TIMEOUT_MS): Database.Database {
  // Before the driver's binary is first used: on an older Node it crashes the process without a word.
  assertSupportedNode();
  let db: Database.Database;
  try {
    // Not Node's recursive mkdir: it loops forever on a data_dir the kernel refuses (/proc/x).
    makeFolderSync(dirname(path));
    db = new Database(path);
  } catch (error) {
    throw new StoreError(
      'STORE_OPEN',
      `Cannot open the state store at ${path}: ${describeError(error)}. Check that the data_dir is writable.`,
      { cause: error },
    );
  }
  try {
    // The busy timeout first: two processes opening a fresh store at once wait for each other's
    // migrations instead of failing with SQLITE_BUSY.
    const waitMs = Math.max(0, Math.floor(busyTimeoutMs));
    db.pragma(`busy_timeout = ${waitMs}`);
    // Before anything is written to it (the WAL switch changes the file's header for good).
    refuseForeignDatabase(db, path);
    // A new file starts in rollback mode, where two connections that both read before they write
    // cannot both wait: SQLite fails one at once with SQLITE_BUSY, busy timeout or not. Two runners
    // started together on a new workload both switch it to WAL that way (one of them stopped with
    // "database is locked" in the fault soak), so the switch is tried again until the other is done.
    retryWhileBusy(() => db.pragma('journal_mode = WAL'), waitMs);
    // NORMAL: in WAL mode a commit is not fsynced; a power loss (never a process crash) may roll
    // back the last commits, never corrupt the file. Record-level writes are all re-derivable (a
    // job's results are applied again, files and shard lines are durable on their own); job-level
    // writes, which must precede remote calls, go through `durably`.
    db.pragma('synchronous = NORMAL');
    // Checkpoint every 64 MB of WAL, not every 4 MB: a page changed by many transactions (indexes,
    // a job's row, the log's tail) is copied into the database file once per checkpoint instead of
    // once per transaction (about a third less written at 50,000 records).
    db.pragma('wal_autocheckpoint = 16384');
    // One big transaction (linking a million records' chains) grows the WAL to its size; cut it
    // back to 64 MB once checkpointed, so it does not keep that size on disk.
    db.pragma('journal_size_limit = 67108864');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    cacheStatements(db);
  } catch (error) {
    db.close();
    if (isBusy(error)) throw lockedAtOpen(path, busyTimeoutMs, error);
    if (!isCorruption(error)) throw error;
    throw corruptStore(path, error);
  }
  return db;
}

/**
 * Runs `step` until it does not fail with SQLITE_BUSY, pausing a few milliseconds between tries (the
 * thread sleeps: the store is being opened, nothing else of it runs yet), for up to `timeoutMs`.
 */
function retryWhileBusy<T>(step: () => T, timeoutMs: number): T {
  const giveUpAt = performance.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waitMs = 2; ; waitMs = Math.min(waitMs * 2, 50)) {
    try {
      return step();
    } catch (error) {
      if (!isBusy(error) || performance.now() >= giveUpAt) throw error;
      Atomics.wait(pause, 0, 0, waitMs);
    }
  }
}

/** Opening gave up on a lock another process held past the busy timeout. */
function lockedAtOpen(path: string, waitedMs: number, error: unknown): StoreError {
  return new StoreError(
    'STORE_BUSY',
    `Another process kept the state store ${path} locked for more than ${waitedMs / 1000} s while this one ` +
      'opened it, so it changed nothing. Is a tool holding the file in a long transaction (an SQLite ' +
      'browser, a backup)? Run again once it has let go: nothing is lost.',
    { cause: error },
  );
}

/**
 * Runs `work` (one transaction or statement) with its commit fsynced. The WAL is written in order,
 * so this also makes every earlier commit durable: after it returns, a power loss loses nothing.
 */
export function durably<T>(db: Database.Database, work: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return work();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

/**
 * `work` as a transaction that begins IMMEDIATE: it takes the write lock before its first statement,
 * and waits for it (busy_timeout) while another process writes. Every transaction on the main
 * database goes through here. A deferred transaction that reads and then writes cannot wait: when
 * another process holds the write lock at that moment, SQLite fails it at once with SQLITE_BUSY,
 * and the run failed with "database is locked" while a second runner was opening the same store
 * (the fault soak, seed 819691).
 */
export function writeTransaction<A extends unknown[], R>(
  db: Database.Database,
  work: (...args: A) => R,
): (...args: A) => R {
  // eslint-disable-next-line no-restricted-syntax -- the one place a transaction is opened
  const transaction = db.transaction(work).immediate;
  return (...args: A): R => {
    try {
      return transaction(...args);
    } catch (error) {
      throw isBusy(error) ? storeBusy(db, error) : error;
    }
  };
}

/** SQLite's words for a file that is not a database, or a damaged one. */
function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

function corruptStore(path: string, error: unknown): StoreError {
  const code = String((error as { code?: unknown }).code);
  return new StoreError(
    'STORE_CORRUPT',
    `The state store ${path} is not a readable SQLite database (${code}); wavebatch left it as it is. ` +
      `Move it aside (mv ${path} ${path}.broken) and run again: records are read again from the source, ` +
      'and every output file on disk counts as done. A new store does not know the batch jobs still ' +
      'running remotely: list them first with `wavebatch jobs` and cancel them (`wavebatch cancel`) or ' +
      'fetch their results (`wavebatch fetch`), or their records are sent, and paid for, again.',
    { cause: error },
  );
}

/**
 * A file with tables but no wavebatch schema version is another program's SQLite database (a
 * data_dir pointed at its folder): the first migration failed on it with a bare "[SQLITE_ERROR]
 * table records already exists", naming no file, after switching the file to WAL.
 */
function refuseForeignDatabase(db: Database.Database, path: string): void {
  // The version and the tables are read by one statement, so from one snapshot: read apart,
  // another process's first migration (its tables and version 1, committed together) could land
  // between the two reads, and a fresh store opened by two processes at once looked foreign to one.
  const rows = db
    .prepare(
      'SELECT (SELECT user_version FROM pragma_user_version) AS version, name FROM sqlite_master ' +
        "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all() as Array<{ version: number; name: string }>;
  if (rows.length === 0 || rows[0]?.version !== 0) return;
  const tables = rows.map((row) => row.name);
  const listed = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
  throw new StoreError(
    'STORE_SCHEMA',
    `The file ${path} is an SQLite database, but not a wavebatch state store (its tables: ${listed}; ` +
      'no wavebatch schema version); wavebatch left it as it is. Set data_dir to a folder of its own, ' +
      'or move the file away.',
  );
}

/**
 * Applies the missing migrations. Each one re-reads the version inside a write (IMMEDIATE)
 * transaction: two processes starting together on a fresh store would otherwise both apply it.
 */
function migrate(db: Database.Database, path: string): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_SCHEMA',
      `The state store at ${path} was written by a newer wavebatch (schema ${version()}); upgrade wavebatch.`,
    );
  }
  for (;;) {
    const applied = writeTransaction(db, (): boolean => {
      const index = version();
      if (index >= MIGRATIONS.length) return false;
      db.exec(MIGRATIONS[index] ?? '');
      db.pragma(`user_version = ${index + 1}`);
      return true;
    })();
    if (!applied) return;
  }
}
