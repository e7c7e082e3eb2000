import { describeError } from '../errors.js';
import { StoreError } from '../store/errors.js';
import type { Lane } from '../lanes/lane.js';

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
