import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunnerClock } from '../../src/clock.js';
import { RunLockedError, takeLease } from '../../src/store/lease.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { compiledChild } from '../fixtures/compiled-child.js';

const CHILD = compiledChild('lease-child');

/** A clock the test moves by hand; sleeps never end on their own, so no heartbeat fires unasked. */
function manualClock(start = 1_000_000): RunnerClock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
    advance: (ms) => void (now += ms),
  };
}

/** A pid that certainly exited: a child run to completion. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('the store lease', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-lease-'));
    store = new SqliteStore({ path: join(dir, 'state.db') });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('excludes a second holder while the first is alive, naming it, and frees on release', async () => {
    const clock = manualClock();
    const first = await takeLease(store, { clock, purpose: 'run' });
    const refused = await takeLease(store, { clock, purpose: 'reset' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RunLockedError);
    expect((refused as RunLockedError).code).toBe('RUN_LOCKED');
    expect((refused as Error).message).toContain(`pid ${process.pid}`);
    expect((refused as Error).message).toContain(hostname());
    expect((refused as Error).message).toContain('run');
    await first.release();
    expect(await store.readLease()).toBeNull();
    const again = await takeLease(store, { clock, purpose: 'reset' });
    await again.release();
  });

  it('takes over at once from a dead process on this host', async () => {
    const clock = manualClock();
    const claim = {
      owner: 'crashed',
      pid: deadPid(),
      hostname: hostname(),
      purpose: 'run',
      now: clock.now(),
      ttlMs: 60_000,
    };
    expect(await store.acquireLease(claim, () => false)).toEqual({ acquired: true });
    const lease = await takeLease(store, { clock, purpose: 'run' });
    expect((await store.readLease())?.owner).toBe(lease.owner);
    await lease.release();
  });

  it('waits for the expiry of a holder on another host, then takes over; the old holder learns it lost', async () => {
    const clock = manualClock();
    const elsewhere = {
      owner: 'far',
      pid: process.pid,
      hostname: 'another-host',
      purpose: 'run',
      now: clock.now(),
      ttlMs: 60_000,
    };
    expect(await store.acquireLease(elsewhere, () => false)).toEqual({ acquired: true });
    await expect(takeLease(store, { clock, purpose: 'run' })).rejects.toBeInstanceOf(RunLockedError);
    clock.advance(59_000);
    await expect(takeLease(store, { clock, purpose: 'run' })).rejects.toBeInstanceOf(RunLockedError);
    clock.advance(2_000);
    const lease = await takeLease(store, { clock, purpose: 'run' });
    expect(await store.renewLease('far', clock.now(), 60_000)).toBe(false);
    expect(await store.renewLease(lease.owner, clock.now(), 60_000)).toBe(true);
    await lease.release();
  });

  it('is kept alive by its heartbeat and lost once someone else holds it', async () => {
    const clock = manualClock();
    const lease = await takeLease(store, { clock, purpose: 'run', ttlMs: 10_000 });
    clock.advance(8_000);
    await lease.renew();
    clock.advance(8_000);
    // Renewed at 8 s: still ours at 16 s, so a second process is refused.
    await expect(takeLease(store, { clock, purpose: 'run' })).rejects.toBeInstanceOf(RunLockedError);
    await store.releaseLease(lease.owner);
    const other = await takeLease(store, { clock, purpose: 'run' });
    await expect(lease.renew()).rejects.toMatchObject({ code: 'RUN_LEASE_LOST' });
    await other.release();
  });

  it('writes a renewal at most once per twelfth of its life, and a late one still finds a takeover', async () => {
    const clock = manualClock();
    const lease = await takeLease(store, { clock, purpose: 'run' });
    const taken = clock.now();
    // A synchronous run renews at every pass, many a second: those within 5 s write nothing.
    for (let pass = 0; pass < 10; pass++) {
      clock.advance(400);
      await lease.renew();
    }
    expect((await store.readLease())?.heartbeatAt).toBe(taken);
    clock.advance(1_000);
    await lease.renew();
    expect(await store.readLease()).toMatchObject({ heartbeatAt: taken + 5_000, expiresAt: taken + 65_000 });
    // Stopped for longer than the lease lives: another process took it over, and the next renewal says so.
    clock.advance(70_000);
    await expect(lease.renew()).resolves.toBeUndefined(); // still ours: nobody took it
    clock.advance(70_000);
    const elsewhere = {
      owner: 'far',
      pid: 1,
      hostname: 'elsewhere',
      purpose: 'run',
      now: clock.now(),
      ttlMs: 60_000,
    };
    expect(await store.acquireLease(elsewhere, () => false)).toEqual({ acquired: true });
    await expect(lease.renew()).rejects.toMatchObject({ code: 'RUN_LEASE_LOST' });
  });

  it('survives a reset of the state it guards', async () => {
    const lease = await takeLease(store, { clock: manualClock(), purpose: 'reset' });
    await store.reset();
    expect((await store.readLease())?.owner).toBe(lease.owner);
    await lease.release();
  });

  it('goes to exactly one of several processes racing for it after a crash', async () => {
    const path = join(dir, 'race.db');
    const crashed = new SqliteStore({ path });
    await crashed.acquireLease(
      {
        owner: 'crashed',
        pid: deadPid(),
        hostname: hostname(),
        purpose: 'run',
        now: Date.now(),
        ttlMs: 600_000,
      },
      () => false,
    );
    await crashed.close();
    const racers: Array<ReturnType<typeof spawn>> = [];
    const outcomes = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, [CHILD, path], {
              stdio: ['pipe', 'pipe', 'inherit'],
            });
            const lines = createInterface({ input: child.stdout });
            lines.on('line', (line) => {
              // Everyone has answered once the parent closes stdin; winners hold the lease until then.
              if (line === 'won' || line.startsWith('lost')) resolve(line);
            });
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`child exited ${code}`))));
            racers.push(child);
          }),
      ),
    );
    for (const racer of racers) racer.stdin?.end();
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o.startsWith('lost RUN_LOCKED'))).toHaveLength(4);
  }, 60_000);
});
