import { WavebatchError } from '../../errors.js';

/**
 * Errors that are the configuration's, not the record's: the key is refused, the model or the
 * endpoint does not exist (a wrong base URL answers 404), or the lane has no quota in this tier.
 * A file the request names that is gone is a 403 too, but the record's own: `serve` fails that
 * record before it gets here (`isMissingFileError`: Google's message for it, not the key's).
 */
const RUN_STOPPING_CODES: ReadonlySet<string> = new Set([
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'MODEL_NOT_FOUND',
  'ENDPOINT_NOT_FOUND',
  'LANE_NO_QUOTA',
]);

/** True when `error` is the configuration's (see RUN_STOPPING_CODES): the run stops instead of failing the record. */
export function stopsTheRun(error: unknown): boolean {
  return WavebatchError.isInstance(error) && RUN_STOPPING_CODES.has(error.code);
}
