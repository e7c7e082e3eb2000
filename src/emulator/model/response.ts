import { INTERNAL_ERROR_MESSAGE } from '../google-error.js';
import type { RecordFault } from './faults.js';
import { countTextTokens, type Modality } from './tokens.js';

/** A wire GenerateContentResponse (camelCase JSON). */
export type WireResponse = Record<string, unknown>;

/** What the model produced for a billed request. */
export type ModelOutcome = 'ok' | Exclude<RecordFault, 'request_error'>;

/** A billed wire response with its token counts and outcome, or an unbilled google.rpc.Status error. */
export type ModelAnswer =
  | {
      kind: 'response';
      response: WireResponse;
      inputTokens: number;
      /** Tokens of the answer (candidatesTokenCount). */
      outputTokens: number;
      /** Tokens spent thinking (thoughtsTokenCount); billed as output like the answer. */
      thoughtsTokens: number;
      outcome: ModelOutcome;
    }
  | { kind: 'error'; error: { code: number; message: string; status: string } };

/** What a response is built from. */
export interface ShapeInput {
  modelVersion: string;
  responseId: string;
  text: string;
  /** True when the request asked for JSON, so unparsable text is an `invalid_json` outcome. */
  json: boolean;
  maxOutputTokens: number | undefined;
  promptDetails: Array<{ modality: Modality; tokenCount: number }>;
  fault: RecordFault | null;
  /** Thinking tokens spent before an answer of so many tokens (0 for a model that does not think). */
  thoughtsFor?: (answerTokens: number) => number;
  /**
   * With `thinkingConfig.includeThoughts`, the summary of the model's thoughts: a first part marked
   * `thought: true` in each candidate that thought, as Gemini returns it. Its tokens are part of
   * thoughtsTokenCount, not candidatesTokenCount.
   */
  thoughtSummary?: string | undefined;
  /**
   * generationConfig.candidateCount: Gemini returns that many candidates (index 0..n-1) and bills
   * each one's answer and thoughts; default 1. The synthetic model writes the same answer in each.
   */
  candidateCount?: number;
}

const HARM_CATEGORIES = [
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
];

/**
 * A response's usageMetadata, counted from the prompt's token details, the returned text and the
 * thinking tokens (totalTokenCount is their sum, as Google reports it).
 */
export function usageMetadata(
  promptDetails: ShapeInput['promptDetails'],
  outputTokens: number,
  thoughtsTokens = 0,
): Record<string, unknown> {
  const promptTokenCount = promptDetails.reduce((sum, detail) => sum + detail.tokenCount, 0);
  // proto3 JSON omits zero counts, so a blocked or empty answer has no candidatesTokenCount.
  return {
    promptTokenCount,
    ...(outputTokens > 0 ? { candidatesTokenCount: outputTokens } : {}),
    totalTokenCount: promptTokenCount + outputTokens + thoughtsTokens,
    promptTokensDetails: promptDetails,
    ...(thoughtsTokens > 0 ? { thoughtsTokenCount: thoughtsTokens } : {}),
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Text that is not valid JSON, the way models break it: cut short, or else wrapped in a Markdown fence. */
export function breakJson(text: string): string {
  const cut = text.slice(0, Math.max(1, Math.floor(text.length * 0.6)));
  if (!isJson(cut)) return cut;
  const fenced = `\`\`\`json\n${text}\n\`\`\``;
  return isJson(fenced) ? `${text},` : fenced;
}

/** Cuts text to what fits in `maxTokens` output tokens (always strictly shorter than the text). */
function truncate(text: string, maxTokens: number | undefined): string {
  const limit = maxTokens ?? Math.max(1, Math.floor(countTextTokens(text) / 2));
  return Array.from(text)
    .slice(0, Math.max(1, Math.min(text.length - 1, limit * 4)))
    .join('');
}

function candidate(text: string, finishReason: string, summary?: string): Record<string, unknown> {
  const parts = [...(summary === undefined ? [] : [{ text: summary, thought: true }]), { text }];
  return { content: { parts, role: 'model' }, finishReason, index: 0 };
}

/** `count` copies of the (first) candidate, indexed 0..count-1; none when there is none. */
function copiesOf(candidates: unknown[], count: number): unknown[] {
  const [first] = candidates;
  if (first === undefined) return [];
  return Array.from({ length: count }, (_, index) => ({ ...(first as Record<string, unknown>), index }));
}

/**
 * Turns an output text and a fault into the wire answer, with usage counted from what is returned.
 * A thinking model thinks first, and its thoughts count against maxOutputTokens as Gemini 2.5 counts
 * them: thoughts that fill the limit leave an empty answer cut off with MAX_TOKENS; otherwise the
 * answer gets what the thoughts left.
 */
export function shapeAnswer(input: ShapeInput): ModelAnswer {
  const inputTokens = input.promptDetails.reduce((sum, detail) => sum + detail.tokenCount, 0);
  const base = { modelVersion: input.modelVersion, responseId: input.responseId };
  const respond = (
    candidates: unknown[],
    outputText: string,
    outcome: ModelOutcome,
    thoughtsPerCandidate = 0,
  ): ModelAnswer => {
    const count = input.candidateCount ?? 1;
    const outputTokens = countTextTokens(outputText) * count;
    const thoughtsTokens = thoughtsPerCandidate * count;
    const all = count === 1 ? candidates : copiesOf(candidates, count);
    return {
      kind: 'response',
      response: {
        candidates: all,
        usageMetadata: usageMetadata(input.promptDetails, outputTokens, thoughtsTokens),
        ...base,
      },
      inputTokens,
      outputTokens,
      thoughtsTokens,
      outcome,
    };
  };
  const limit = input.maxOutputTokens;
  // What the model thinks before writing its natural answer, within the output limit.
  const thoughts = Math.min(input.thoughtsFor?.(countTextTokens(input.text)) ?? 0, limit ?? Infinity);
  const answerBudget = limit === undefined ? undefined : limit - thoughts;
  const summary = thoughts > 0 ? input.thoughtSummary : undefined;
  switch (input.fault) {
    case 'request_error':
      return { kind: 'error', error: { code: 500, status: 'INTERNAL', message: INTERNAL_ERROR_MESSAGE } };
    case 'safety': {
      const safetyRatings = HARM_CATEGORIES.map((category, index) => ({
        category,
        probability: index === 1 ? 'HIGH' : 'NEGLIGIBLE',
        ...(index === 1 ? { blocked: true } : {}),
      }));
      return respond([{ finishReason: 'SAFETY', index: 0, safetyRatings }], '', 'safety');
    }
    case 'empty':
      return respond([], '', 'empty');
    case 'invalid_json': {
      const broken = breakJson(input.text);
      return respond([candidate(broken, 'STOP', summary)], broken, 'invalid_json', thoughts);
    }
    case 'max_tokens': {
      const cut = truncate(input.text, answerBudget === undefined ? undefined : Math.max(1, answerBudget));
      return respond([candidate(cut, 'MAX_TOKENS', summary)], cut, 'max_tokens', thoughts);
    }
    default:
      break;
  }
  if (answerBudget !== undefined && answerBudget <= 0) {
    // Thoughts that filled the limit leave no answer; their summary, when asked for, is all there is.
    const content = summary === undefined ? {} : { parts: [{ text: summary, thought: true }] };
    return respond(
      [{ content: { ...content, role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 }],
      '',
      'max_tokens',
      thoughts,
    );
  }
  if (answerBudget !== undefined && countTextTokens(input.text) > answerBudget) {
    const cut = truncate(input.text, answerBudget);
    return respond([candidate(cut, 'MAX_TOKENS', summary)], cut, 'max_tokens', thoughts);
  }
  return respond(
    [candidate(input.text, 'STOP', summary)],
    input.text,
    input.json && !isJson(input.text) ? 'invalid_json' : 'ok',
    thoughts,
  );
}
