import type { SyncLane } from '../lane.js';

/**
 * The longest a graceful stop waits for the synchronous requests in the air by default. Google
 * finishes, and bills, a call whether or not anyone waits for it, so each answer waited for is one
 * the next run does not buy again; but a person who pressed Ctrl-C waits too, and a service manager
 * kills a process that takes too long to stop (systemd after 90 s). Standard and priority answer in
 * seconds, most Flex answers within a minute: a minute keeps most of what is paid for without
 * holding a stopping process for Flex's whole 20-minute timeout.
 */
export const STOP_GRACE_CAP_MS = 60_000;

/** How the synchronous lanes stop when a run's signal aborts. */
export interface InFlightStop {
  /** The run's signal: once it aborts nothing new is sent, and the requests in the air get their grace. */
  signal?: AbortSignal | undefined;
  /** How long the requests in the air are waited for; default: see stopGraceMs. */
  graceMs?: number | undefined;
  /** Aborted: the wait ends at once and the requests still in the air are abandoned. */
  now?: AbortSignal | undefined;
}

/**
 * How long a graceful stop waits for the requests in the air on `lanes`: `graceMs` when given, else
 * the longest request timeout among those lanes (no answer comes after it anyway), at most
 * STOP_GRACE_CAP_MS; 0 when nothing is in the air.
 */
export function stopGraceMs(
  lanes: Iterable<SyncLane>,
  timeoutOf: (lane: SyncLane) => number,
  graceMs?: number,
): number {
  let longest = 0;
  for (const lane of lanes) longest = Math.max(longest, timeoutOf(lane));
  if (longest === 0) return 0;
  return graceMs ?? Math.min(longest, STOP_GRACE_CAP_MS);
}
