import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreContract } from './store-suite.js';

describeStoreContract('SqliteStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wb-store-'));
  return {
    open: async () => new SqliteStore({ path: join(dir, 'state.db') }),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStore: its own file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-store-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds the media-file cache to a store written before it existed (schema 1), keeping its data', async () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0] ?? '');
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO records (id, chain_id, position, vars_json, media_json, updated_at) VALUES ('r', 'c', 1, '{}', '[]', 'now')`,
      )
      .run();
    old.close();
    const upgraded = new SqliteStore({ path });
    try {
      expect((await upgraded.getRecord('r'))?.chainId).toBe('c');
      await upgraded.saveMediaFile({
        sha256: 'b'.repeat(64),
        mimeType: 'application/pdf',
        sizeBytes: 1,
        remoteName: 'files/p',
        uri: 'u',
        expiresAt: null,
        uploadedAt: 't',
      });
      expect((await upgraded.getMediaFile('b'.repeat(64), 'application/pdf'))?.remoteName).toBe('files/p');
    } finally {
      await upgraded.close();
    }
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });
});
