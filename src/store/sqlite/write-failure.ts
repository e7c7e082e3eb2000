import type Database from 'better-sqlite3';
import { describeError, WavebatchError } from '../../errors.js';
import { StoreError } from '../errors.js';

/**
 * A write SQLite refused for another reason than a lock (a full disk, a read-only file, an I/O
 * error, a damaged page), as a StoreError naming the file and what was being written: it reached the
 * user as SQLite's bare error, naming neither. Nothing of the transaction was written (SQLite rolled
 * it back), so the next start finds the records where they were. A wavebatch error (STORE_BUSY, which
 * passes) is returned as it is.
 */
export function storeWriteError(db: Database.Database, what: string, error: unknown): unknown {
  if (WavebatchError.isInstance(error)) return error;
  return new StoreError(
    'STORE_WRITE',
    `The state store ${db.name} could not ${what} (${describeError(error)}); nothing of it was written. Make the store ` +
      'writable again (free disk space, fix its permissions, or move a damaged file aside: see Trust and ' +
      "limits) and run again: the next start takes up from where the store stands, a batch job's results " +
      'applied again.',
    { cause: error },
  );
}
