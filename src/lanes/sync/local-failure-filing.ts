import type { Flight } from '../../lifecycle/index.js';
import type { FailureOutcome, ClaimedRecord } from '../../store/store.js';
import { billedRequestsOf, billedUsage } from './billed-tries.js';
import { isPassingLocalFailure, localFailureMessage } from '../../lifecycle/local-failure.js';
import { syncAttemptEvent, type AttemptEventDeps } from './sync-attempt-event.js';
import type { Progress, Running, SyncLaneDeps } from './sync-lane-deps.js';
import { describeError } from '../../errors.js';

/** What filing a failure of wavebatch's own needs: the lifecycle, the run's events and what an attempt's event is made with. */
export type LocalFailureDeps = AttemptEventDeps & Pick<SyncLaneDeps, 'lifecycle' | 'emit'>;

/** What the driver does with a record whose failure was not filed: give it back, or stop the run. */
export interface LocalFailureExits {
  /** Gives the record back uncounted (the driver's, which tries again while the store refuses the release). */
  giveBack: (record: ClaimedRecord) => Promise<void>;
  /** Stops the run with `error` once the requests in flight have settled. */
  stopRun: (error: unknown) => void;
}

/**
 * wavebatch itself failed on a record (a disk or store failure, a bug, a hook that threw something
 * odd): the record lifecycle files it as on every lane (RecordLifecycle.failLocally: a counted
 * attempt of cause `local_error`, retried, then dead-lettered), with what this attempt was billed
 * and any answer it bought. A store that was busy (STORE_BUSY) passes: the record goes back
 * uncounted (an answer, valid or a billed failure, a busy store kept from settling does not come
 * here: it is kept and settled again, see settleThroughBusyStore). A store that refuses to file the failure for another reason stops the run with its
 * error (STORE_WRITE names the record and the store), as on the batch lane: the record went back
 * uncounted and the run went on, so it was sent, billed and refused again for ever.
 */
export async function failLocally(
  deps: LocalFailureDeps,
  record: ClaimedRecord,
  flight: Flight,
  entry: Running,
  progress: Progress,
  error: unknown,
  exits: LocalFailureExits,
): Promise<void> {
  // The tries billed and not logged yet are in this attempt's cost (its answer is lost with it).
  const unlogged = progress.outcome?.billed.slice(entry.loggedTries) ?? [];
  let outcome: FailureOutcome | 'passed';
  try {
    outcome = await deps.lifecycle.failLocally({
      recordId: record.id,
      lane: record.lane,
      flight,
      attempt: record.attempts,
      stage: progress.stage,
      error,
      promptHash: progress.built?.promptHash ?? null,
      event: ({ error: thrown, ...failure }) =>
        syncAttemptEvent(
          deps,
          record,
          flight,
          progress.built ?? null,
          {
            usage: billedUsage(unlogged),
            billedRequests: billedRequestsOf(unlogged),
            requests: unlogged.length,
            // A valid answer that was bought is kept in the log: the retry applies it (keptAnswer).
            finishReason: progress.answer?.finishReason ?? null,
            ...(progress.answer ? { output: progress.answer.output } : {}),
            failure,
          },
          thrown,
        ),
    });
  } catch (failError) {
    const passes = isPassingLocalFailure(failError);
    deps.emit({
      type: 'warning',
      message: `The failure of ${record.id} could not be filed either: ${describeError(failError)}${passes ? '' : '; the run stops'}.`,
    });
    if (!passes) exits.stopRun(failError);
    outcome = 'passed';
  }
  if (outcome !== 'passed') return;
  const message = localFailureMessage(record.lane, record.id, progress.stage, error);
  deps.emit({ type: 'warning', message: `${message}; it is sent again later.` });
  await exits.giveBack(record);
}
