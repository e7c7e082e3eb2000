import type { OutputValidator } from '../results/index.js';
import type { StoredEvent } from '../store/event-log.js';
import { LOCAL_ERROR_CAUSE } from './local-failure.js';

/** A valid answer Google billed that wavebatch could not settle (e.g. its output could not be written), on any lane. */
export interface KeptAnswer {
  output: unknown;
  /** What the answer was billed for, as its output document says. */
  usage: { inputTokens: number; outputTokens: number };
  finishReason: string | null;
}

/**
 * The answer a record's last attempt bought and could not settle, when it answers the request about
 * to be sent (the same rendered prompt and model) and is still valid (the schema may have changed
 * since): the failure's event keeps it (see RecordLifecycle for an output that cannot be written,
 * RecordLifecycle.failLocally for the rest), so the retry applies it instead
 * of buying it again, on a synchronous lane or the batch lane (see withoutKeptAnswers), also after
 * a crash or in the run after a requeue. `attempts` are the record's attempts in the inference
 * log, in log order. Undefined when there is none.
 */
export function keptAnswer(
  attempts: readonly StoredEvent[],
  validator: OutputValidator,
  request: { promptHash: string; model: string },
): KeptAnswer | undefined {
  const last = attempts[attempts.length - 1];
  // Only the last attempt: any attempt after the unsettled one (a success, a later answer) supersedes it.
  if (last?.cause !== LOCAL_ERROR_CAUSE || last.output === undefined) return undefined;
  if (last.promptHash !== request.promptHash || last.model !== request.model) return undefined;
  if (!validator.validate(last.output).ok) return undefined;
  // The answer was billed once, by the first of the failures that kept it; a failure to settle it
  // again bought nothing (its tokens are 0), so the tokens of that run of failures are its bill.
  const usage = { inputTokens: 0, outputTokens: 0 };
  const answer = JSON.stringify(last.output);
  for (let index = attempts.length - 1; index >= 0; index--) {
    const attempt = attempts[index];
    if (attempt?.cause !== LOCAL_ERROR_CAUSE || attempt.promptHash !== last.promptHash) break;
    if (JSON.stringify(attempt.output) !== answer) break;
    usage.inputTokens += attempt.inputTokens;
    usage.outputTokens += attempt.outputTokens;
  }
  return { output: last.output, usage, finishReason: last.finishReason };
}
