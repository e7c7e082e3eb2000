import type { RunnerClock } from '../clock.js';
import { describeError } from '../errors.js';
import { isPassingLocalFailure } from '../lifecycle/local-failure.js';
import { StoreError } from '../store/errors.js';
import type { HeldLease } from '../store/lease.js';
import { BUSY_TIMEOUT_MS } from '../store/sqlite/database.js';
import type { RunnerEvent } from './events.js';

/** How soon a pass put off by a busy store is tried again: well within the lease's life. */
export const LEASE_RETRY_MS = 1_000;

/**
 * What the lease must have left after a busy renewal for the pass to be put off: the wait before
 * the next try, that try's own busy wait, and one busy wait more of slack. Less, and another
 * process could take the store over before this one renewed: the run stops first.
 */
const PUT_OFF_MARGIN_MS = LEASE_RETRY_MS + 2 * BUSY_TIMEOUT_MS;

/**
 * Whether a write a busy store (STORE_BUSY) refused may be tried again in LEASE_RETRY_MS: the lease
 * has life left for the wait, the try and its slack (PUT_OFF_MARGIN_MS). Tried later, another
 * process could have taken the store over before this one wrote.
 */
export function leaseOutlastsBusyRetry(lease: Pick<HeldLease, 'expiresAt'>, now: number): boolean {
  return lease.expiresAt() - now >= PUT_OFF_MARGIN_MS;
}

/**
 * Renews the run's lease at the start of a pass; 'put-off' when another process kept the store
 * locked past its busy timeout (STORE_BUSY), as the lanes put off what meets a busy store: the lease
 * is still this process's until it expires, so the pass is tried again in LEASE_RETRY_MS. That
 * ended the run. A lease too close to its end for another try stops the run with a StoreError
 * (STORE_BUSY) saying so, before another process could take the store over and both write to it.
 */
export async function renewForPass(
  lease: HeldLease,
  clock: RunnerClock,
  emit: (event: RunnerEvent) => void,
): Promise<'renewed' | 'put-off'> {
  try {
    await lease.renew();
    return 'renewed';
  } catch (error) {
    if (!isPassingLocalFailure(error)) throw error;
    const expiresAt = lease.expiresAt();
    const until = new Date(expiresAt).toISOString();
    if (!leaseOutlastsBusyRetry(lease, clock.now()))
      throw new StoreError(
        'STORE_BUSY',
        `${describeError(error)} This run could not renew its lease on the store, which runs out at ${until}, ` +
          'and stops before another process could take the store over.',
        { cause: error },
      );
    return putOff(`The run's lease could not be renewed: ${describeError(error)}`, lease, emit);
  }
}

/**
 * Puts the rest of a pass off when one of its store writes (reconcile, dispatch round, input sweep)
 * met a busy store (STORE_BUSY), as the renewal does: each write changed nothing or left what a
 * crash there leaves, which the next pass reconciles first. That ended the run. Any other error is
 * thrown. The next pass renews the lease first, so a lease near its end still stops the run.
 */
export function putOffBusyPass(
  error: unknown,
  lease: HeldLease | undefined,
  emit: (event: RunnerEvent) => void,
): 'put-off' {
  if (!isPassingLocalFailure(error)) throw error;
  return putOff(`The pass could not write to the state store: ${describeError(error)}`, lease, emit);
}

/** Warns that the pass is put off (`said`: what met the busy store), tried again in LEASE_RETRY_MS. */
function putOff(said: string, lease: HeldLease | undefined, emit: (event: RunnerEvent) => void): 'put-off' {
  const holds = lease ? ` (the lease holds until ${new Date(lease.expiresAt()).toISOString()})` : '';
  emit({
    type: 'warning',
    message: `${said} The pass is put off${holds} and tried again in ${LEASE_RETRY_MS / 1000} s.`,
  });
  return 'put-off';
}
