import { describeError } from '../errors.js';
import { StoreError } from '../store/errors.js';
import type { Lane } from '../lanes/lane.js';
import type { InferenceEvent } from '../store/event-log.js';
import type { Flight } from './flight.js';
import type { SettledFailure } from './record-lifecycle.js';

/**
 * Where a request was when wavebatch itself failed (not the API, not the answer): `build` turning
 * the record into a request, `send` preparing or sending it, `settle` applying the answer
 * (classifying it, writing its output, marking the record done in the store). A batch record fails
 * locally only at `settle` (its output could not be written, see RecordLifecycle).
 */
export type ServeStage = 'build' | 'send' | 'settle';

/** The failure cause such a failure is filed under, whatever the stage (the message names it). */
export const LOCAL_ERROR_CAUSE = 'local_error';

const STAGE_TEXT: Record<ServeStage, string> = {
  build: 'building its request',
  send: 'sending its request',
  settle: 'settling its answer (writing the output, marking the record done)',
};

/**
 * Whether the failure may pass if the same step is simply taken again: another process held the
 * state store's write lock past the busy timeout (STORE_BUSY). Such a record goes back to the queue
 * without counting an attempt; any other local failure counts one, so max_retries bounds it.
 */
export function isPassingLocalFailure(error: unknown): boolean {
  return StoreError.isInstance(error) && error.code === 'STORE_BUSY';
}

/** The failure's message: the lane, the record, the stage and the error (cut to 4 kB). */
export function localFailureMessage(lane: Lane, recordId: string, stage: ServeStage, error: unknown): string {
  return `The ${lane} request for ${recordId} failed in wavebatch (stage ${stage}: ${STAGE_TEXT[stage]}): ${describeError(error)}`;
}

/** What a failure of wavebatch's own is filed with: its cause and message, and the error itself (its stack is logged). */
export interface LocalFailureFacts {
  cause: string;
  message: string;
  raw: null;
  error: unknown;
}

/** A failure of wavebatch's own on one attempt of a record, on any lane (see RecordLifecycle.failLocally). */
export interface LocalFailure {
  recordId: string;
  lane: Lane;
  /** The attempt's flight; null for a ready record whose kept answer was being applied again. */
  flight: Flight | null;
  attempt: number;
  stage: ServeStage;
  error: unknown;
  promptHash: string | null;
  /**
   * The attempt's event as this failure: what was billed for it, and a valid answer it bought, kept
   * so the retry applies it rather than buying it again (see keptAnswer).
   */
  event?: (failure: LocalFailureFacts) => InferenceEvent;
}

/**
 * The failure filed for it: cause `local_error`, the stage in the message, retried (max_retries
 * bounds it, then dead-lettered). Released uncounted instead, such a record was claimed and sent
 * again for ever, billed at every try. Callers first let a passing failure pass (isPassingLocalFailure).
 */
export function settledLocalFailure(failure: LocalFailure): SettledFailure {
  const message = localFailureMessage(failure.lane, failure.recordId, failure.stage, failure.error);
  const facts: LocalFailureFacts = { cause: LOCAL_ERROR_CAUSE, message, raw: null, error: failure.error };
  return {
    recordId: failure.recordId,
    flight: failure.flight,
    // A failure without a flight still names its lane: a kept batch answer failing again was reported with none.
    ...(failure.flight ? {} : { lane: failure.lane }),
    attempt: failure.attempt,
    cause: LOCAL_ERROR_CAUSE,
    message,
    raw: null,
    retryable: true,
    promptHash: failure.promptHash,
    ...(failure.event ? { event: failure.event(facts) } : {}),
  };
}
