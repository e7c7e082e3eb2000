import type { Usage } from '../../results/index.js';
import type { BilledRequest } from '../../telemetry/attempt-event.js';
import { SYNC_LANES, type SyncLane } from '../lane.js';
import type { BilledAttempt } from './sync-executor.js';

/**
 * Each billed try with the tier that served it, as the API named it (`usageMetadata.serviceTier`):
 * Google serves a priority request over priority's limit by standard and bills it at standard's
 * price, so one record's tries can be billed at different tiers. A try that names no tier (or one
 * unknown here) is priced at the lane it was sent on. Priced as one request of their summed
 * tokens at the lane, a priority record whose resent try standard served was logged at priority's
 * price for both, and a sum of two long prompts at the long-context rate neither was billed at.
 */
export function billedRequestsOf(billed: readonly BilledAttempt[]): BilledRequest[] {
  return billed.map((attempt) => ({ ...attempt, servedBy: laneServing(attempt) }));
}

/** The synchronous tier that served a try, when the API named one. */
export function laneServing(attempt: BilledAttempt): SyncLane | undefined {
  const tier = attempt.servedTier;
  return (SYNC_LANES as readonly unknown[]).includes(tier) ? (tier as SyncLane) : undefined;
}

/** The sum of what every attempt was billed for; null when nothing was. */
export function billedUsage(billed: readonly BilledAttempt[]): Usage | null {
  if (billed.length === 0) return null;
  const usage = { inputTokens: 0, outputTokens: 0, thoughtsTokens: 0 };
  let audioInputTokens = 0;
  for (const attempt of billed) {
    usage.inputTokens += attempt.inputTokens;
    usage.outputTokens += attempt.outputTokens;
    usage.thoughtsTokens += attempt.thoughtsTokens ?? 0;
    audioInputTokens += attempt.audioInputTokens ?? 0;
  }
  return audioInputTokens > 0 ? { ...usage, audioInputTokens } : usage;
}
