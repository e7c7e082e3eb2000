import type Database from 'better-sqlite3';
import type { MediaFileRow } from '../store.js';

interface MediaFileDbRow {
  sha256: string;
  mime_type: string;
  size_bytes: number;
  remote_name: string;
  uri: string;
  expires_at: string | null;
  uploaded_at: string;
}

/** The SQLite side of the media-file cache (table `media_files`); kept apart so the store stays small. */
export class SqliteMediaFiles {
  constructor(private readonly db: Database.Database) {}

  /** The cached upload of these bytes with this type, or null. */
  get(sha256: string, mimeType: string): MediaFileRow | null {
    const row = this.db
      .prepare('SELECT * FROM media_files WHERE sha256 = ? AND mime_type = ?')
      .get(sha256, mimeType) as MediaFileDbRow | undefined;
    if (!row) return null;
    return {
      sha256: row.sha256,
      mimeType: row.mime_type,
      sizeBytes: row.size_bytes,
      remoteName: row.remote_name,
      uri: row.uri,
      expiresAt: row.expires_at,
      uploadedAt: row.uploaded_at,
    };
  }

  /** Inserts or replaces the entry. */
  save(row: MediaFileRow): void {
    this.db
      .prepare(
        `INSERT INTO media_files (sha256, mime_type, size_bytes, remote_name, uri, expires_at, uploaded_at)
         VALUES (@sha256, @mimeType, @sizeBytes, @remoteName, @uri, @expiresAt, @uploadedAt)
         ON CONFLICT (sha256, mime_type) DO UPDATE SET size_bytes = excluded.size_bytes,
           remote_name = excluded.remote_name, uri = excluded.uri, expires_at = excluded.expires_at,
           uploaded_at = excluded.uploaded_at`,
      )
      .run(row);
  }
}
