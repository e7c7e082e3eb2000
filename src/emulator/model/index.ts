import { responseIdOf } from './digest.js';
import type { RecordFault } from './faults.js';
import { countTextTokens, requestTokenDetails, type FileResolver } from './tokens.js';
import { shapeAnswer, type ModelAnswer, type ModelOutcome, type WireResponse } from './response.js';
import { formatOf, syntheticOutput } from './synthetic-output.js';
import type { WireGenerateRequest } from './wire-request.js';

export type { RecordFault } from './faults.js';
export { RECORD_FAULTS, isRecordFault } from './faults.js';
export type { WireGenerateRequest } from './wire-request.js';
export { promptTextOf } from './wire-request.js';
export type { ModelAnswer, ModelOutcome } from './response.js';
export { countRequestTokens, countTextTokens, TOKENS_PER_IMAGE, type FileResolver } from './tokens.js';
export { priceOf, BATCH_DISCOUNT } from './prices.js';
export { promptDigest } from './digest.js';
export { syntheticOutput } from './synthetic-output.js';
export { sampleJsonSchema, type Json } from './json-schema-sample.js';
export { openApiToJsonSchema } from './openapi-schema.js';

/** One request to the model. */
export interface ModelCall {
  model: string;
  request: WireGenerateRequest;
  key: string | null;
  seed: number;
  /** Optional: the bytes behind fileData parts (uploaded files), so PDFs are counted by page. */
  resolveFile?: FileResolver;
}

/** A test's own model: its text is shaped like the synthetic one's; a full response is passed through. undefined = fall back to the synthetic model. */
export type Responder = (call: ModelCall) => { text: string } | { response: Record<string, unknown> } | undefined;

function modelVersionOf(model: string): string {
  return model.replace(/^models\//, '');
}

function textOf(response: WireResponse): string {
  const candidates = Array.isArray(response.candidates) ? (response.candidates as unknown[]) : [];
  const first = candidates[0] as { content?: { parts?: Array<{ text?: unknown }> } } | undefined;
  return (first?.content?.parts ?? []).map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/** The outcome a passed-through response represents, read from its candidates. */
function outcomeOf(response: WireResponse, json: boolean): ModelOutcome {
  const candidates = Array.isArray(response.candidates) ? (response.candidates as Array<{ finishReason?: unknown }>) : [];
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
function passThrough(call: ModelCall, response: WireResponse, responseId: string, json: boolean): ModelAnswer {
  const promptDetails = requestTokenDetails(call.request, call.resolveFile);
  const inputTokens = promptDetails.reduce((sum, detail) => sum + detail.tokenCount, 0);
  const given = response.usageMetadata as { candidatesTokenCount?: unknown } | undefined;
  const outputTokens = typeof given?.candidatesTokenCount === 'number' ? given.candidatesTokenCount : countTextTokens(textOf(response));
  return {
    kind: 'response',
    response: {
      ...response,
      usageMetadata: response.usageMetadata ?? {
        promptTokenCount: inputTokens,
        ...(outputTokens > 0 ? { candidatesTokenCount: outputTokens } : {}),
        totalTokenCount: inputTokens + outputTokens,
        promptTokensDetails: promptDetails,
      },
      modelVersion: response.modelVersion ?? modelVersionOf(call.model),
      responseId: response.responseId ?? responseId,
    },
    inputTokens,
    outputTokens,
    outcome: outcomeOf(response, json),
  };
}

/**
 * Answers one request: the responder's text or the synthetic output, shaped by the fault, as a wire
 * GenerateContentResponse with usageMetadata, candidates[].finishReason, modelVersion, responseId.
 * A responder's full response is returned as given unless a fault is set, in which case its text is
 * shaped like any other. Errors thrown by the responder propagate (they are the test's bugs).
 */
export function answerRequest(call: ModelCall, fault: RecordFault | null, responder?: Responder): ModelAnswer {
  const responseId = responseIdOf(String(call.seed), call.model, call.key ?? '', JSON.stringify(call.request));
  const custom = responder?.(call);
  const format = formatOf(call.request);
  const json = format.mimeType === 'application/json';
  if (custom && 'response' in custom && fault === null) return passThrough(call, custom.response, responseId, json);
  const text = custom ? ('text' in custom ? custom.text : textOf(custom.response)) : syntheticOutput(call.model, call.request, call.seed).text;
  return shapeAnswer({
    modelVersion: modelVersionOf(call.model),
    responseId,
    text,
    json,
    maxOutputTokens: format.maxOutputTokens,
    promptDetails: requestTokenDetails(call.request, call.resolveFile),
    fault,
  });
}
