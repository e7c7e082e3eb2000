import { isBlank } from '../../blank-text.js';
import { responseFacts } from '../../results/response.js';

/**
 * What a synchronous answer's stop reason means for the request. Only `STOP` with text is a
 * complete answer. `MAX_TOKENS` is truncation: worth a retry
 * with a larger output limit. Safety, recitation and prohibited-content stops are final: the same
 * prompt is blocked again, so the record is dead-lettered at once with the reason. No candidates,
 * or a candidate without text, is a passing glitch worth a plain retry.
 */
export type StopVerdict =
  | { kind: 'complete' }
  | { kind: 'truncated'; outputTokens: number }
  | { kind: 'blocked'; reason: string; message: string }
  | { kind: 'empty'; message: string };

/** Stop reasons that block the same prompt every time. */
const BLOCKED = new Set([
  'SAFETY',
  'RECITATION',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Reads a GenerateContentResponse (SDK object or REST JSON) into a verdict. */
export function stopVerdict(response: Record<string, unknown>): StopVerdict {
  const facts = responseFacts(response);
  if (facts.blockReason !== null) {
    return {
      kind: 'blocked',
      reason: facts.blockReason,
      message: `The prompt was blocked (blockReason ${facts.blockReason}); the same prompt is blocked again, so it is not retried.`,
    };
  }
  if (facts.candidateCount === 0) return { kind: 'empty', message: 'The response has no candidates.' };
  const reason = facts.finishReason ?? 'FINISH_REASON_UNSPECIFIED';
  if (BLOCKED.has(reason)) {
    return {
      kind: 'blocked',
      reason,
      message: `The answer was stopped (finishReason ${reason}); the same prompt is stopped again, so it is not retried.`,
    };
  }
  if (reason === 'MAX_TOKENS') return { kind: 'truncated', outputTokens: facts.usage.outputTokens };
  if (reason !== 'STOP')
    return {
      kind: 'empty',
      message: `The model stopped without a complete answer (finishReason ${reason}).`,
    };
  if (isBlank(facts.text))
    return { kind: 'empty', message: `The answer has no text (finishReason ${reason}).` };
  return { kind: 'complete' };
}
