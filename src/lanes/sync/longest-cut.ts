import type { StoredEvent } from '../../store/event-log.js';

/**
 * Output tokens of the longest answer to this prompt of the record cut at MAX_TOKENS, among its
 * attempts in the inference log: a request lost to a crash while its cut answer was sent again, or
 * held by the cost cap, started again at the first limit, and bought the same cut answer a second time.
 */
export function longestCut(attempts: readonly StoredEvent[], promptHash: string): number | undefined {
  let longest: number | undefined;
  for (const cut of attempts)
    if (cut.cause === 'max_tokens' && cut.promptHash === promptHash && cut.outputTokens > (longest ?? 0))
      longest = cut.outputTokens;
  return longest;
}
