import type Database from 'better-sqlite3';

const KEY = 'source_fingerprint';

/** The fingerprint of the source as last synced in full; null when none was (or a sync did not finish). */
export function syncedSourceFingerprint(db: Database.Database): string | null {
  const value = db.prepare('SELECT value FROM store_meta WHERE key = ?').pluck().get(KEY) as
    string | undefined;
  return value ?? null;
}

/** Stores (or, with null, forgets) the fingerprint the records were last synced from. */
export function saveSourceFingerprint(db: Database.Database, fingerprint: string | null): void {
  if (fingerprint === null) db.prepare('DELETE FROM store_meta WHERE key = ?').run(KEY);
  else
    db.prepare(
      'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(KEY, fingerprint);
}
