/**
 * The ways one record can be sent to Gemini. `batch` is the Batch API (asynchronous jobs); the
 * others are a synchronous `generateContent` call with that service tier.
 */
export const LANES = ['batch', 'flex', 'standard', 'priority'] as const;

/** One way of sending a request, and the price it is billed at. */
export type Lane = (typeof LANES)[number];

/** The synchronous lanes: `generateContent` with `serviceTier` set to the lane's name. */
export const SYNC_LANES = ['flex', 'standard', 'priority'] as const;

/** A synchronous lane. */
export type SyncLane = (typeof SYNC_LANES)[number];

/** Whether `value` names a lane. */
export function isLane(value: unknown): value is Lane {
  return typeof value === 'string' && (LANES as readonly string[]).includes(value);
}
