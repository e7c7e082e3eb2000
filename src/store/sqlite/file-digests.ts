import type Database from 'better-sqlite3';
import type { FileDigestRow } from '../store.js';
import { writeTransaction } from './database.js';

/** The remembered digest of a file, or null. */
export function getFileDigest(db: Database.Database, path: string): FileDigestRow | null {
  const row = db
    .prepare(
      'SELECT path, size_bytes AS sizeBytes, mtime_ms AS mtimeMs, sha256 FROM file_digests WHERE path = ?',
    )
    .get(path) as FileDigestRow | undefined;
  return row ?? null;
}

/** Remembers files' digests, replacing what was known of the paths, in one transaction. */
export function saveFileDigests(db: Database.Database, rows: readonly FileDigestRow[]): void {
  if (rows.length === 0) return;
  const save = db.prepare(
    `INSERT INTO file_digests (path, size_bytes, mtime_ms, sha256) VALUES (?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
         sha256 = excluded.sha256`,
  );
  writeTransaction(db, () => {
    for (const row of rows) save.run(row.path, row.sizeBytes, row.mtimeMs, row.sha256);
  })();
}
