import type Database from 'better-sqlite3';
import type { LeaseClaim, LeaseHolder, LeaseOutcome } from '../store.js';
import { writeTransaction } from './database.js';

/** The one lease of a store: whoever holds it is the only process that changes the store's state. */
const LEASE_NAME = 'workload';

interface LeaseDbRow {
  owner: string;
  pid: number;
  hostname: string;
  purpose: string;
  acquired_at: number;
  heartbeat_at: number;
  expires_at: number;
}

function toHolder(row: LeaseDbRow): LeaseHolder {
  return {
    owner: row.owner,
    pid: row.pid,
    hostname: row.hostname,
    purpose: row.purpose,
    acquiredAt: row.acquired_at,
    heartbeatAt: row.heartbeat_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Takes the lease when it is free, expired, already ours, or abandoned (`isAbandoned`, e.g. its
 * process is dead). Read and write happen in one IMMEDIATE transaction: SQLite lets one writer in at
 * a time, so two processes racing here serialize and the second sees the first one's row.
 */
export function acquireLease(
  db: Database.Database,
  claim: LeaseClaim,
  isAbandoned: (holder: LeaseHolder) => boolean,
): LeaseOutcome {
  return writeTransaction(db, (): LeaseOutcome => {
    const row = db.prepare('SELECT * FROM leases WHERE name = ?').get(LEASE_NAME) as LeaseDbRow | undefined;
    if (row && row.owner !== claim.owner && row.expires_at > claim.now && !isAbandoned(toHolder(row)))
      return { acquired: false, holder: toHolder(row) };
    db.prepare(
      `INSERT INTO leases (name, owner, pid, hostname, purpose, acquired_at, heartbeat_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, pid = excluded.pid,
           hostname = excluded.hostname, purpose = excluded.purpose, acquired_at = excluded.acquired_at,
           heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
    ).run(
      LEASE_NAME,
      claim.owner,
      claim.pid,
      claim.hostname,
      claim.purpose,
      claim.now,
      claim.now,
      claim.now + claim.ttlMs,
    );
    return { acquired: true };
  })();
}

/** Moves the expiry of `owner`'s lease; false when the lease is no longer theirs. */
export function renewLease(db: Database.Database, owner: string, now: number, ttlMs: number): boolean {
  return (
    db
      .prepare('UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND owner = ?')
      .run(now, now + ttlMs, LEASE_NAME, owner).changes === 1
  );
}

/** Gives the lease up if `owner` still holds it. */
export function releaseLease(db: Database.Database, owner: string): void {
  db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?').run(LEASE_NAME, owner);
}

/** The current holder, or null (it may have expired: compare `expiresAt` with the clock). */
export function readLease(db: Database.Database): LeaseHolder | null {
  const row = db.prepare('SELECT * FROM leases WHERE name = ?').get(LEASE_NAME) as LeaseDbRow | undefined;
  return row ? toHolder(row) : null;
}

/** The store's random identity, drawn when the store was created. */
export function storeId(db: Database.Database): string {
  const row = db.prepare(`SELECT value FROM store_meta WHERE key = 'store_id'`).get() as
    { value: string } | undefined;
  return row?.value ?? '';
}
