import type { Flight } from '../../lifecycle/index.js';
import type { ClaimedRecord } from '../../store/store.js';
import { billedRequestsOf, billedUsage } from './billed-tries.js';
import {
  isPassingLocalFailure,
  LOCAL_ERROR_CAUSE,
  localFailureMessage,
} from '../../lifecycle/local-failure.js';
import { syncAttemptEvent, type AttemptEventDeps } from './sync-attempt-event.js';
import type { Progress, Running, SyncLaneDeps } from './sync-lane-deps.js';
import { describeError } from '../../errors.js';

/** What filing a failure of wavebatch's own needs: the lifecycle, the run's events and what an attempt's event is made with. */
export type LocalFailureDeps = AttemptEventDeps & Pick<SyncLaneDeps, 'lifecycle' | 'emit'>;

/**
 * wavebatch itself failed on a record (a disk or store failure, a bug, a hook that threw something
 * odd): the record counts a failed attempt (cause `local_error`, the stage in the message) and is
 * retried, then dead-lettered past max_retries. Released uncounted, it was claimed and sent again
 * for ever: a record whose output could not be written was billed again at every try (that case
 * the lifecycle now settles itself, see RecordLifecycle; this one sees the others). A store
 * that was busy (STORE_BUSY) passes: that record goes back uncounted. So does every record when
 * the store cannot even file the failure, as nothing can be counted then. It goes back through
 * `giveBack` (the driver's, which tries again while the store refuses the release).
 */
export async function failLocally(
  deps: LocalFailureDeps,
  record: ClaimedRecord,
  flight: Flight,
  entry: Running,
  progress: Progress,
  error: unknown,
  giveBack: (record: ClaimedRecord) => Promise<void>,
): Promise<void> {
  const { lifecycle } = deps;
  const message = localFailureMessage(record.lane, record.id, progress.stage, error);
  if (!isPassingLocalFailure(error)) {
    // The tries billed and not logged yet are in this attempt's cost (its answer is lost with it).
    const unlogged = progress.outcome?.billed.slice(entry.loggedTries) ?? [];
    const failure = { cause: LOCAL_ERROR_CAUSE, message, raw: null };
    try {
      await lifecycle.fail({
        recordId: record.id,
        flight,
        attempt: record.attempts,
        ...failure,
        retryable: true,
        promptHash: progress.built?.promptHash ?? null,
        event: syncAttemptEvent(
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
          error,
        ),
      });
      return;
    } catch (failError) {
      deps.emit({
        type: 'warning',
        message: `The failure of ${record.id} could not be filed either: ${describeError(failError)}.`,
      });
    }
  }
  deps.emit({ type: 'warning', message: `${message}; it is sent again later.` });
  await giveBack(record);
}
