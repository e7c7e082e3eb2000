import { counted } from '../quantities.js';
import type { AttemptGroup } from '../store/event-log.js';

/**
 * Why a synchronous call brought no answer though Google may bill it: given up at its request
 * timeout, or its answer cut off half-way (the connection reset while the body arrived). Each is an
 * attempt event of its own in the inference log, its tokens and cost unknown (cost null, tokens 0).
 */
export const UNANSWERED_CAUSES = ['timeout', 'answer_cut'] as const;

export type UnansweredCause = (typeof UNANSWERED_CAUSES)[number];

/** Whether an attempt (or a group of them) stands for calls whose tokens and cost are unknown. */
export function isUnanswered(attempt: Pick<AttemptGroup, 'cause'>): boolean {
  return (UNANSWERED_CAUSES as readonly (string | null)[]).includes(attempt.cause);
}

/**
 * Mean billed output tokens per request of `groups`, the calls with no answer left out (their 0 is
 * for want of tokens, not a short answer: counted, they took the mean down, and max_cost's estimates
 * of the requests in flight with it); null when no request with known tokens is among them.
 */
export function meanOutputTokens(groups: readonly AttemptGroup[]): number | null {
  let requests = 0;
  let outputTokens = 0;
  for (const group of groups) {
    if (isUnanswered(group)) continue;
    requests += group.requests;
    outputTokens += group.outputTokens;
  }
  return requests > 0 ? outputTokens / requests : null;
}

/** Requests of `groups` that brought no answer: Google may bill them at a price wavebatch cannot know. */
export function unansweredRequests(groups: readonly AttemptGroup[]): number {
  let requests = 0;
  for (const group of groups) if (isUnanswered(group)) requests += group.requests;
  return requests;
}

/** What `status` and the report say of `requests` calls with no answer: the cost figure is a floor. */
export function unknownCostNote(requests: number): string {
  return (
    `${counted(requests, 'call')} with no answer (given up at the timeout, or cut off half-way) may be billed at a price ` +
    'wavebatch could not know: the cost is a floor'
  );
}
