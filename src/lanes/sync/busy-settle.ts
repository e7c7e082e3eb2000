import type { RunnerClock } from '../../clock.js';
import { describeError } from '../../errors.js';
import { isPassingLocalFailure } from '../../lifecycle/local-failure.js';
import type { RunnerEventListener } from '../../runner/events.js';
import { LEASE_RETRY_MS, leaseOutlastsBusyRetry } from '../../runner/lease-renewal.js';
import { StoreError } from '../../store/errors.js';
import type { HeldLease } from '../../store/lease.js';

/** Tries of a busy settle when no lease bounds them (a runner without one): as many as a give-back's. */
const TRIES_WITHOUT_LEASE = 10;

/** What settling an answer through a busy store needs: the clock, the run's lease, the run's events. */
export interface BusySettleDeps {
  clock: RunnerClock;
  /** The run's lease on the store: the tries stop while it still has life left (see leaseOutlastsBusyRetry). */
  lease?: Pick<HeldLease, 'expiresAt'>;
  emit: RunnerEventListener;
}

/**
 * How a settle through a busy store ended: `applied`; `stopped` (the run stopped at once
 * meanwhile: the caller gives the record back); or `stuck`, with the STORE_BUSY error to stop the
 * run with, the record's claim left held (the next start releases it).
 */
export type BusySettleEnd = { end: 'applied' } | { end: 'stopped' } | { end: 'stuck'; error: StoreError };

/**
 * What is settled: a valid `answer` (its output written, its record marked done) or a billed
 * `failure` (its attempt counted and logged, the record retried or dead-lettered).
 */
export type SettledOutcome = 'answer' | 'failure';

/**
 * Settles an outcome (`apply`), again every LEASE_RETRY_MS while another process keeps the store
 * locked past its busy timeout (STORE_BUSY): the outcome is in memory and the record's claim held
 * (the request is still in flight). Its record given back instead, it was sent and billed a second
 * time, and a failure on its last allowed attempt past max_retries. Bounded as a busy pass is: once
 * the lease has too little life left for another try, the run must stop before another process
 * could take the store over. Any other error is thrown (the caller files it).
 */
export async function settleThroughBusyStore(
  deps: BusySettleDeps,
  recordId: string,
  apply: () => Promise<void>,
  stop: AbortSignal,
  outcome: SettledOutcome = 'answer',
): Promise<BusySettleEnd> {
  const { clock, lease, emit } = deps;
  for (let tries = 1; ; tries++) {
    try {
      await apply();
      return { end: 'applied' };
    } catch (error) {
      if (!isPassingLocalFailure(error)) throw error;
      if (stop.aborted) return { end: 'stopped' };
      const room = lease ? leaseOutlastsBusyRetry(lease, clock.now()) : tries < TRIES_WITHOUT_LEASE;
      if (!room) return { end: 'stuck', error: stuckError(outcome, recordId, error, lease) };
      emit({
        type: 'warning',
        message: `The ${outcome} for ${recordId} could not be settled yet: ${describeError(error)}; it is kept and settled again in ${LEASE_RETRY_MS / 1000} s.`,
      });
    }
    await clock.sleep(LEASE_RETRY_MS, stop);
    if (stop.aborted) return { end: 'stopped' };
  }
}

/** The error a settle the store kept refusing stops the run with: what, why, and what the next start does. */
function stuckError(
  outcome: SettledOutcome,
  recordId: string,
  error: unknown,
  lease: Pick<HeldLease, 'expiresAt'> | undefined,
): StoreError {
  const why = lease
    ? `the run's lease on the store runs out at ${new Date(lease.expiresAt()).toISOString()}, so the run stops before another process could take the store over`
    : `it was tried ${TRIES_WITHOUT_LEASE} times, so the run stops`;
  return new StoreError(
    'STORE_BUSY',
    `The ${outcome} for ${recordId} could not be settled: ${describeError(error)} ${why}; ${recordId} stays in flight, and the next start sends it again.`,
    { cause: error },
  );
}
