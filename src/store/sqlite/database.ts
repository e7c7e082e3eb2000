import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';

/** Opens (creating when missing) the database file in WAL mode and brings its schema up to date. */
export function openDatabase(path: string): Database.Database {
  let db: Database.Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (error) {
    throw new StoreError(
      'STORE_OPEN',
      `Cannot open the state store at ${path}: ${String(error)}. Check that the data_dir is writable.`,
      { cause: error },
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, path);
  return db;
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_SCHEMA',
      `The state store at ${path} was written by a newer wavebatch (schema ${version}); upgrade wavebatch.`,
    );
  }
  for (let index = version; index < MIGRATIONS.length; index++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[index] ?? '');
      db.pragma(`user_version = ${index + 1}`);
    })();
  }
}
