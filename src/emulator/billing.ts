import type { Lane } from '../lanes/lane.js';
import { costOf, GEMINI_PRICE_LIST } from '../pricing/index.js';
import { timestamp } from './clock.js';
import type { MemoryLedger } from './ledger.js';
import { bareModelName, promptTextOf, type ModelAnswer, type WireGenerateRequest } from './model/index.js';

/** A billed answer: what the model produced for one request. */
type Answered = Extract<ModelAnswer, { kind: 'response' }>;

/**
 * USD of one request on `lane`, from the one dated price list (src/pricing): thinking tokens are
 * billed as output, audio prompt tokens at the audio rate, long prompts at the long-context rate. A
 * model the list does not price (a preview, a test's own) costs as the list's fallback model.
 */
export function laneCost(
  model: string,
  lane: Lane,
  tokens: { inputTokens: number; outputTokens: number; audioInputTokens: number },
): number {
  return (
    costOf(GEMINI_PRICE_LIST, model, lane, tokens) ??
    costOf(GEMINI_PRICE_LIST, GEMINI_PRICE_LIST.limitsFallbackModel, lane, tokens) ??
    0
  );
}

/** Prompt tokens of the AUDIO modality, read from the answer's usageMetadata.promptTokensDetails. */
function audioTokensOf(answer: Answered): number {
  const usage = answer.response.usageMetadata as { promptTokensDetails?: unknown } | undefined;
  const details = Array.isArray(usage?.promptTokensDetails) ? usage.promptTokensDetails : [];
  let audio = 0;
  for (const detail of details as Array<{ modality?: unknown; tokenCount?: unknown }>) {
    if (detail.modality === 'AUDIO' && typeof detail.tokenCount === 'number') audio += detail.tokenCount;
  }
  return audio;
}

/** Records one answered request in the ledger, at its lane's price, at emulated time `at`. */
export function billAnswer(
  ledger: MemoryLedger,
  bill: {
    at: number;
    lane: Lane;
    model: string;
    key: string | null;
    batchName: string | null;
    request: WireGenerateRequest;
    answer: Answered;
  },
): void {
  const { answer } = bill;
  const model = bareModelName(bill.model);
  const outputTokens = answer.outputTokens + answer.thoughtsTokens;
  ledger.record({
    at: timestamp(bill.at),
    mode: bill.lane === 'batch' ? 'batch' : 'realtime',
    lane: bill.lane,
    model,
    key: bill.key,
    batchName: bill.batchName,
    promptText: promptTextOf(bill.request),
    inputTokens: answer.inputTokens,
    outputTokens,
    thoughtsTokens: answer.thoughtsTokens,
    outcome: answer.outcome,
    costUsd: laneCost(model, bill.lane, {
      inputTokens: answer.inputTokens,
      outputTokens,
      audioInputTokens: audioTokensOf(answer),
    }),
  });
}
