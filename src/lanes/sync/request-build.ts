import { GeminiApiError } from '../../gemini/index.js';
import type { Flight } from '../../lifecycle/index.js';
import { MediaUploadError } from '../../media/index.js';
import {
  MissingContextError,
  RecordRequestError,
  regenerateContext,
  type RecordRequest,
} from '../../runner/record-request.js';
import type { ClaimedRecord } from '../../store/store.js';
import { syncAttemptEvent, type AttemptEventDeps } from './sync-attempt-event.js';
import type { SyncLaneDeps } from './sync-lane-deps.js';

/** What building a record's request needs: the builder, the lifecycle and store to give it back, and the run's events. */
export type RequestBuildDeps = AttemptEventDeps &
  Pick<SyncLaneDeps, 'lifecycle' | 'requests' | 'store' | 'emit'>;

/** The record's request, or null when it cannot be built (the record is then released or failed here). */
export async function buildRequest(
  deps: RequestBuildDeps,
  record: ClaimedRecord,
  flight: Flight,
): Promise<RecordRequest | null> {
  const { lifecycle, requests } = deps;
  try {
    const built = await requests.build(record);
    // The prompt is in the inference log before the attempt's event refers to it.
    await requests.flushPrompts();
    return built;
  } catch (error) {
    if (error instanceof MissingContextError) {
      await lifecycle.release(record.id, record.requestId);
      await regenerateContext(deps, error);
      return null;
    }
    if (error instanceof RecordRequestError) {
      await lifecycle.fail({
        recordId: record.id,
        flight,
        attempt: record.attempts,
        cause: error.failureCause,
        message: error.message,
        raw: null,
        retryable: false,
        promptHash: null,
        event: syncAttemptEvent(deps, record, flight, null, { usage: null, finishReason: null }, error),
      });
      return null;
    }
    if ((GeminiApiError.isInstance(error) && error.retryable) || error instanceof MediaUploadError) {
      // A media upload hit a network blip or a quota: not the record's fault; it goes back to wait.
      await lifecycle.release(record.id, record.requestId);
      deps.emit({ type: 'warning', message: `Skipping ${record.id} for now: ${error.message}` });
      return null;
    }
    throw error;
  }
}
