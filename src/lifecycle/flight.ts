import type { SyncLane } from '../lanes/lane.js';

/**
 * Where one attempt of a record travels: in a batch job, or in a synchronous request on a lane.
 * A record in flight has exactly one, and a result settles the record only through it, so a result
 * that arrives for an old flight (a replay after a crash, a hedged request that lost) changes nothing.
 */
export type Flight =
  | { lane: 'batch'; jobId: string; requestId?: undefined }
  | { lane: SyncLane; requestId: string; jobId?: undefined };

/** The store's names of a flight: `jobId` or `requestId`, the other null. */
export function flightKeys(flight: Flight | null): { jobId: string | null; requestId: string | null } {
  if (flight === null) return { jobId: null, requestId: null };
  return flight.lane === 'batch'
    ? { jobId: flight.jobId, requestId: null }
    : { jobId: null, requestId: flight.requestId };
}
