import { WavebatchError } from '../errors.js';
import { GeminiApiError } from './errors.js';

// The API's answers that are the configuration's, not a record's or a job's: retrying or failing
// records on them only repeats them. One list, in three widths, for the places that stop on them.

/** Met by every call the run makes: the key is refused, or the base URL is not the Gemini API. */
const EVERY_CALL: ReadonlySet<string> = new Set(['PERMISSION_DENIED', 'ENDPOINT_NOT_FOUND']);

/** Met by every call on the run's model as well: Google does not serve it. */
const EVERY_MODEL_CALL: ReadonlySet<string> = new Set([...EVERY_CALL, 'MODEL_NOT_FOUND']);

/**
 * Met by every request a synchronous lane sends as well: a 404 without a model named (the path or
 * the method is not served), or no quota for the lane in this tier (`NoQuotaError`, LANE_NO_QUOTA).
 * A file a request names that is gone is a 403 too, but the record's own: the lane fails that record
 * before it asks (`isMissingFileError`: Google's message for it, not the key's).
 */
const EVERY_SYNC_CALL: ReadonlySet<string> = new Set([...EVERY_MODEL_CALL, 'NOT_FOUND', 'LANE_NO_QUOTA']);

/**
 * A refused key or a base URL that is not the Gemini API: every call meets it, countTokens included,
 * so the start's token calibration stops the run on it rather than warn and meet it again at the
 * next call. (A model countTokens does not serve may still be served by generateContent and batch.)
 */
export function refusedEveryCall(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && EVERY_CALL.has(error.code);
}

/**
 * Errors that every later call would meet too (a refused key, a base URL that is not the Gemini
 * API, a model it does not serve): the run stops on them instead of reporting them job by job forever.
 */
export function endsTheRun(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && EVERY_MODEL_CALL.has(error.code);
}

/** True when a synchronous request's error is the configuration's (see EVERY_SYNC_CALL): the run stops instead of failing the record. */
export function stopsTheRun(error: unknown): boolean {
  return WavebatchError.isInstance(error) && EVERY_SYNC_CALL.has(error.code);
}
