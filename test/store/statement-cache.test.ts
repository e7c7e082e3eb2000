import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheStatements } from '../../src/store/sqlite/statement-cache.js';

describe('prepared statements cached per SQL text', () => {
  let db: Database.Database;

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES (?), (?), (?)');
    cacheStatements(db);
  });

  afterEach(() => db.close());

  it('hands out the same statement for the same text, its modes reset each time', () => {
    const first = db.prepare('SELECT name FROM t ORDER BY id');
    expect(db.prepare('SELECT name FROM t ORDER BY id')).toBe(first);
    expect(db.prepare('SELECT name FROM t ORDER BY id').pluck().get()).toBeNull();
    // The plucking caller above must not change what the next caller of the same text gets.
    expect(db.prepare('SELECT name FROM t ORDER BY id').get()).toEqual({ name: null });
    expect(db.prepare('SELECT name FROM t ORDER BY id').raw().all()).toEqual([[null], [null], [null]]);
    expect(db.prepare('SELECT name FROM t ORDER BY id').all()).toHaveLength(3);
  });

  it('prepares a fresh statement while the cached one is still iterating', () => {
    const names: unknown[] = [];
    for (const row of db.prepare('SELECT id FROM t ORDER BY id').iterate() as Iterable<{ id: number }>)
      names.push(db.prepare('SELECT id FROM t ORDER BY id').pluck().all().length + row.id);
    expect(names).toEqual([4, 5, 6]);
  });
});
