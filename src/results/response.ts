/**
 * Reading a GenerateContentResponse (REST JSON, as in batch results files and the SDK's
 * GenerateContentResponse) without trusting its shape: every field may be missing.
 */

/** What classification needs from a response. */
export interface ResponseFacts {
  blockReason: string | null;
  candidateCount: number;
  finishReason: string | null;
  /** The answer text: the first candidate's non-thought text parts, joined. */
  text: string;
  usage: { inputTokens: number; outputTokens: number; thoughtsTokens: number; audioInputTokens?: number };
}

/** Extracts the facts of a response (`thought: true` parts are the model's reasoning, not its answer). */
export function responseFacts(response: Record<string, unknown>): ResponseFacts {
  const feedback = objectOr(response.promptFeedback);
  const blockReason =
    typeof feedback?.blockReason === 'string' && feedback.blockReason !== 'BLOCKED_REASON_UNSPECIFIED'
      ? feedback.blockReason
      : null;
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  const first = objectOr(candidates[0]);
  const finishReason = typeof first?.finishReason === 'string' ? first.finishReason : null;
  const parts = objectOr(first?.content)?.parts;
  let text = '';
  if (Array.isArray(parts)) {
    for (const part of parts) {
      const fields = objectOr(part);
      if (fields && fields.thought !== true && typeof fields.text === 'string') text += fields.text;
    }
  }
  return {
    blockReason,
    candidateCount: candidates.length,
    finishReason,
    text,
    usage: usageOf(response.usageMetadata),
  };
}

/**
 * Billed tokens: input is the prompt; output is the candidates plus the thinking tokens (both billed
 * as output); `thoughtsTokens` says how much of the output was thinking, `audioInputTokens` (only
 * when there is audio) how much of the prompt was audio, which Google bills at the audio rate.
 */
export function usageOf(metadata: unknown): {
  inputTokens: number;
  outputTokens: number;
  thoughtsTokens: number;
  audioInputTokens?: number;
} {
  const usage = objectOr(metadata);
  const thoughtsTokens = count(usage?.thoughtsTokenCount);
  const inputTokens = count(usage?.promptTokenCount);
  const audioInputTokens = Math.min(inputTokens, audioTokensOf(usage?.promptTokensDetails));
  return {
    inputTokens,
    outputTokens: count(usage?.candidatesTokenCount) + thoughtsTokens,
    thoughtsTokens,
    ...(audioInputTokens > 0 ? { audioInputTokens } : {}),
  };
}

/** Prompt tokens of the AUDIO modality in `promptTokensDetails` (a list of `{modality, tokenCount}`). */
function audioTokensOf(details: unknown): number {
  if (!Array.isArray(details)) return 0;
  let audio = 0;
  for (const detail of details) {
    const fields = objectOr(detail);
    if (fields?.modality === 'AUDIO') audio += count(fields.tokenCount);
  }
  return audio;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function objectOr(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
