import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RunnerClock } from '../clock.js';
import { WavebatchError } from '../errors.js';
import { StoreError } from './errors.js';
import type { LeaseHolder, StoreLease } from './store.js';

/**
 * A lease lives this long without a heartbeat. A holder that died on this host is recognised at
 * once (its pid is gone); one on another host, or one whose pid was reused, only once this passes.
 */
export const LEASE_TTL_MS = 60_000;

/**
 * `renew()` writes only once this fraction of the lease's life has passed since the last write (5 s
 * of 60 s): the lease still has at least 55 s to run whenever a renewal is skipped.
 */
const RENEW_FRACTION = 12;

/** Raised when another process holds the store's lease; names it, so the user knows whom to wait for. */
export class RunLockedError extends WavebatchError {
  readonly code = 'RUN_LOCKED';
  constructor(
    readonly holder: LeaseHolder,
    now: number,
  ) {
    const since = new Date(holder.acquiredAt).toISOString();
    const left = Math.max(0, Math.ceil((holder.expiresAt - now) / 1000));
    // A program using the library can refuse itself (two runs at once, a session left open): telling
    // it to wait for "another process", its own pid, sent it looking for a process that is not there.
    const ownProcess = holder.pid === process.pid && holder.hostname === hostname();
    super(
      ownProcess
        ? `This process already holds this workload's state store: \`${holder.purpose}\` (pid ${holder.pid} ` +
            `on ${holder.hostname}, since ${since}). ` +
            'Another run or session of the workload in this program has not ended: wait for its runWorkload, ' +
            'or close() its openWorkloadSession, before starting the next.'
        : `Another wavebatch process holds this workload's state store: \`${holder.purpose}\` (pid ${holder.pid} ` +
            `on ${holder.hostname}, since ${since}). Wait for it to finish. If that process is gone, its lease is ` +
            `taken over at once on the same host, otherwise when it expires (in ${left} s without a heartbeat).`,
    );
  }
}

/** Raised when a holder finds its lease taken over (it missed its heartbeats): it must stop writing. */
export class LeaseLostError extends WavebatchError {
  readonly code = 'RUN_LEASE_LOST';
  constructor(holder: LeaseHolder | null) {
    super(
      'This process lost its lease on the state store' +
        (holder ? ` to pid ${holder.pid} on ${holder.hostname} (${holder.purpose})` : '') +
        ' after missing its heartbeats (was the machine asleep or the process stopped?). It stops here; ' +
        'nothing is lost: the other process carries on.',
    );
  }
}

export interface TakeLeaseOptions {
  clock: RunnerClock;
  /** What the holder does (`run`, `reset`, …); shown to whoever is refused. */
  purpose: string;
  ttlMs?: number;
  /** The holder's id; default a random one. */
  owner?: string;
}

/** A lease this process holds. */
export interface HeldLease {
  readonly owner: string;
  /**
   * Extends the lease (at most once per twelfth of its life: sooner, it returns at once); throws
   * LeaseLostError when another process has taken it.
   */
  renew(): Promise<void>;
  /** When the lease runs out unless renewed (epoch ms): no other process can take the store before. */
  expiresAt(): number;
  /** Renews in the background every quarter of the lease's life until released. */
  keepAlive(): void;
  /** Stops the heartbeat and gives the lease up; a store another process keeps locked leaves it to run out. */
  release(): Promise<void>;
}

/**
 * Takes the store's lease for this process or throws RunLockedError naming the holder. A holder
 * whose process is dead on this host is taken over at once; any other only after its lease expired.
 */
export async function takeLease(store: StoreLease, options: TakeLeaseOptions): Promise<HeldLease> {
  const { clock, purpose } = options;
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  const owner = options.owner ?? randomBytes(8).toString('hex');
  const host = hostname();
  const outcome = await store.acquireLease(
    { owner, pid: process.pid, hostname: host, purpose, now: clock.now(), ttlMs },
    (holder) => holderGone(holder, host),
  );
  if (!outcome.acquired) throw new RunLockedError(outcome.holder, clock.now());

  const heartbeat = new AbortController();
  let lost = false;
  let renewedAt = clock.now();
  const renew = async () => {
    // Nobody can take the lease before it expires, and it was extended less than a twelfth of its
    // life ago: no write. A synchronous run passes at every answer, and a write per pass was a
    // transaction and a WAL page per request; a process stopped or asleep for longer is past this.
    const now = clock.now();
    if (!lost && now - renewedAt < ttlMs / RENEW_FRACTION) return;
    if (!lost && (await store.renewLease(owner, now, ttlMs))) {
      renewedAt = now;
      return;
    }
    lost = true;
    throw new LeaseLostError(await store.readLease());
  };
  return {
    owner,
    renew,
    expiresAt: () => renewedAt + ttlMs,
    keepAlive() {
      void (async () => {
        while (!heartbeat.signal.aborted && !lost) {
          await clock.sleep(ttlMs / 4, heartbeat.signal);
          if (heartbeat.signal.aborted) return;
          // A lost lease is noticed here and reported by the holder's next renew().
          await renew().catch(() => undefined);
        }
      })();
    },
    async release() {
      heartbeat.abort();
      if (lost) return;
      try {
        await store.releaseLease(owner);
      } catch (error) {
        // Another process kept the store locked (STORE_BUSY): the lease is left to run out, taken
        // over at once on this host as its process ends. The error ended the session's close and hid
        // the run's own (a run stopped by that very lock among them).
        if (!(StoreError.isInstance(error) && error.code === 'STORE_BUSY')) throw error;
      }
    },
  };
}

/** Whether the holder's process has died: it ran on this host and its pid no longer exists. */
export function holderGone(holder: LeaseHolder, host: string = hostname()): boolean {
  return holder.hostname === host && !processAlive(holder.pid);
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
