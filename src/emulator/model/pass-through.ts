import { countTextTokens, type Modality } from './tokens.js';
import { usageMetadata, type ModelAnswer, type ModelOutcome, type WireResponse } from './response.js';

/*
 * A test's responder may return a whole wire response; it goes out as given, completed with what
 * every response carries, and its outcome (what the ledger bills) is read from its candidates.
 */

/** The model name as modelVersion reports it (no `models/` prefix). */
export function modelVersionOf(model: string): string {
  return model.replace(/^models\//, '');
}

/** The text of a response's first candidate (all its text parts). */
export function textOf(response: WireResponse): string {
  const candidates = Array.isArray(response.candidates) ? (response.candidates as unknown[]) : [];
  const first = candidates[0] as { content?: { parts?: Array<{ text?: unknown }> } } | undefined;
  return (first?.content?.parts ?? [])
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** The outcome a passed-through response represents, read from its candidates. */
function outcomeOf(response: WireResponse, json: boolean): ModelOutcome {
  const candidates = Array.isArray(response.candidates)
    ? (response.candidates as Array<{ finishReason?: unknown }>)
    : [];
  const finish = candidates[0]?.finishReason;
  if (candidates.length === 0) return 'empty';
  if (finish === 'SAFETY' || finish === 'PROHIBITED_CONTENT' || finish === 'BLOCKLIST') return 'safety';
  if (finish === 'MAX_TOKENS') return 'max_tokens';
  if (json) {
    try {
      JSON.parse(textOf(response));
    } catch {
      return 'invalid_json';
    }
  }
  return 'ok';
}

/** A responder's full response, completed with usageMetadata, modelVersion and responseId when it lacks them. */
export function passThrough(
  model: string,
  promptDetails: Array<{ modality: Modality; tokenCount: number }>,
  response: WireResponse,
  responseId: string,
  json: boolean,
): ModelAnswer {
  const inputTokens = promptDetails.reduce((sum, detail) => sum + detail.tokenCount, 0);
  const given = response.usageMetadata as
    { candidatesTokenCount?: unknown; thoughtsTokenCount?: unknown } | undefined;
  const outputTokens =
    typeof given?.candidatesTokenCount === 'number'
      ? given.candidatesTokenCount
      : countTextTokens(textOf(response));
  const thoughtsTokens = typeof given?.thoughtsTokenCount === 'number' ? given.thoughtsTokenCount : 0;
  return {
    kind: 'response',
    response: {
      ...response,
      usageMetadata: response.usageMetadata ?? usageMetadata(promptDetails, outputTokens),
      modelVersion: response.modelVersion ?? modelVersionOf(model),
      responseId: response.responseId ?? responseId,
    },
    inputTokens,
    outputTokens,
    thoughtsTokens,
    outcome: outcomeOf(response, json),
  };
}
