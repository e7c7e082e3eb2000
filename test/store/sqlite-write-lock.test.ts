import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPassingLocalFailure } from '../../src/lifecycle/local-failure.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { WorkloadRecord } from '../../src/workload/record.js';

/**
 * Another process (a second runner opening the store, `wavebatch requeue`) holds SQLite's write lock
 * for `holdMs`: it begins an IMMEDIATE transaction, says "held", and commits after that long.
 */
function holdWriteLock(path: string, holdMs: number): Promise<ChildProcess> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('held\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));`;
  const child = spawn(process.execPath, ['-e', script, path, String(holdMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the lock holder exited (${code}) before holding the lock`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve(child));
  });
}

async function* pages(count: number): AsyncIterable<WorkloadRecord> {
  for (let n = 1; n <= count; n++)
    yield { id: `book/p${n}`, chainId: `book${n}`, position: 1, vars: {}, media: [] };
}

describe('the SQLite store while another process writes', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-write-lock-'));
    store = new SqliteStore({ path: join(dir, 'state.db') });
    await store.syncRecords(() => pages(3));
    await store.linkChains();
    await store.refreshReadiness();
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // claimReady reads the ready records, then moves them in flight: as a deferred transaction it
  // failed at once with SQLITE_BUSY ("database is locked") when the other process held the lock at
  // that moment, which ended a run in the fault soak.
  it('waits for the lock in a transaction that reads before it writes, instead of failing with SQLITE_BUSY', async () => {
    const holder = await holdWriteLock(join(dir, 'state.db'), 300);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    const claimed = await store.claimReady({ lane: 'flex', limit: 2, claimId: 'c' });
    expect(claimed.map((record) => record.requestId)).toEqual(['c-0', 'c-1']);
    expect((await store.counts()).in_flight).toBe(2);
    await exited;
  });

  it('gives up after its busy timeout with STORE_BUSY, naming the file, and changes nothing', async () => {
    const path = join(dir, 'state.db');
    const impatient = new SqliteStore({ path, busyTimeoutMs: 100 });
    try {
      const holder = await holdWriteLock(path, 1500);
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      const refused = await impatient
        .claimReady({ lane: 'flex', limit: 2, claimId: 'c' })
        .catch((error) => error);
      expect(refused).toMatchObject({ code: 'STORE_BUSY', category: 'failure' });
      expect((refused as Error).message).toContain(path);
      expect((refused as Error).message).toContain('more than 0.1 s');
      // A failure that passes: a synchronous request that meets it sends its record back uncounted.
      expect(isPassingLocalFailure(refused)).toBe(true);
      await exited;
      expect((await impatient.counts()).in_flight).toBe(0);
      expect(await impatient.claimReady({ lane: 'flex', limit: 2, claimId: 'c' })).toHaveLength(2);
    } finally {
      await impatient.close();
    }
  });

  // Renewing the lease is one statement outside a transaction: it takes the write lock itself, and
  // used to fail with SQLite's bare "database is locked" when another process held it too long.
  it('reports a single statement outside a transaction that waited past the busy timeout as STORE_BUSY', async () => {
    const path = join(dir, 'state.db');
    const impatient = new SqliteStore({ path, busyTimeoutMs: 100 });
    try {
      const claim = { owner: 'me', pid: process.pid, hostname: 'here', purpose: 'run', ttlMs: 60_000 };
      expect(await impatient.acquireLease({ ...claim, now: 1000 }, () => false)).toEqual({ acquired: true });
      const holder = await holdWriteLock(path, 1500);
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      const refused = await impatient.renewLease('me', 2000, 60_000).catch((error) => error);
      expect(refused).toMatchObject({ code: 'STORE_BUSY', category: 'failure' });
      expect((refused as Error).message).toContain(path);
      await exited;
      expect(await impatient.readLease()).toMatchObject({ owner: 'me', heartbeatAt: 1000 });
      expect(await impatient.renewLease('me', 3000, 60_000)).toBe(true);
      expect(await impatient.readLease()).toMatchObject({ heartbeatAt: 3000 });
    } finally {
      await impatient.close();
    }
  });
});
