import { responseIdOf } from './digest.js';
import type { RecordFault } from './faults.js';
import { modelVersionOf, passThrough, textOf } from './pass-through.js';
import { requestTokenDetails, type FileResolver } from './tokens.js';
import { shapeAnswer, type ModelAnswer } from './response.js';
import { formatOf, syntheticOutput } from './synthetic-output.js';
import { thinkingOf } from './catalog.js';
import { includeThoughtsOf, thoughtsTokens } from './thinking.js';
import type { WireGenerateRequest } from './wire-request.js';

export type { RecordFault } from './faults.js';
export { RECORD_FAULTS, isRecordFault } from './faults.js';
export type { WireGenerateRequest } from './wire-request.js';
export { promptTextOf } from './wire-request.js';
export type { ModelAnswer, ModelOutcome } from './response.js';
export {
  countRequestTokens,
  countTextTokens,
  requestTokenDetails,
  TOKENS_PER_IMAGE,
  type FileResolver,
  type Modality,
} from './tokens.js';
export {
  MODEL_NAMES,
  bareModelName,
  catalogModel,
  inputTokenLimitOf,
  thinkingOf,
  type CatalogModel,
  type Thinking,
} from './catalog.js';
export { thinkingBudgetOf, thinkingRefusal, thoughtsTokens } from './thinking.js';
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

/**
 * A test's own model: its text is shaped like the synthetic one's; a full response is passed through;
 * an error is the request's google.rpc.Status (unbilled, as a fault's). undefined = fall back to the
 * synthetic model.
 */
export type Responder = (
  call: ModelCall,
) =>
  | { text: string }
  | { response: Record<string, unknown> }
  | { error: { code: number; status: string; message: string } }
  | undefined;

/**
 * Answers one request: the responder's text or the synthetic output, shaped by the fault, as a wire
 * GenerateContentResponse with usageMetadata, candidates[].finishReason, modelVersion, responseId.
 * A responder's full response is returned as given unless a fault is set, in which case its text is
 * shaped like any other. Errors thrown by the responder propagate (they are the test's bugs).
 */
export function answerRequest(
  call: ModelCall,
  fault: RecordFault | null,
  responder?: Responder,
): ModelAnswer {
  const responseId = responseIdOf(
    String(call.seed),
    call.model,
    call.key ?? '',
    JSON.stringify(call.request),
  );
  const custom = responder?.(call);
  if (custom && 'error' in custom) return { kind: 'error', error: { ...custom.error } };
  const format = formatOf(call.request);
  const json = format.mimeType === 'application/json';
  if (custom && 'response' in custom && fault === null)
    return passThrough(
      call.model,
      requestTokenDetails(call.request, call.resolveFile),
      custom.response,
      responseId,
      json,
    );
  const text = custom
    ? 'text' in custom
      ? custom.text
      : textOf(custom.response)
    : syntheticOutput(call.model, call.request, call.seed).text;
  return shapeAnswer({
    modelVersion: modelVersionOf(call.model),
    responseId,
    text,
    json,
    maxOutputTokens: format.maxOutputTokens,
    candidateCount: format.candidateCount,
    promptDetails: requestTokenDetails(call.request, call.resolveFile),
    fault,
    thoughtsFor: (answerTokens) => thoughtsTokens(thinkingOf(call.model), call, answerTokens),
    thoughtSummary: includeThoughtsOf(call.request)
      ? `**Working it out**\n\nSynthetic thought summary ${responseId.slice(0, 8)}: reading the request, then answering.`
      : undefined,
  });
}
