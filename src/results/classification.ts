import { isBlank } from '../blank-text.js';
import { rpcStatusFacts } from './api-error.js';
import { capText, shortenText } from './capped-text.js';
import { responseFacts, type ResponseFacts } from './response.js';
import type { OutputValidator } from './validator.js';

/** Why a result is not a usable output; each is a distinct, logged failure cause. */
export type FailureCause =
  | 'api_error'
  | 'invalid_json'
  | 'schema_mismatch'
  | 'max_tokens'
  | 'safety'
  | 'recitation'
  | 'empty'
  | 'malformed_result'
  | 'missing_result'
  /** A grouped request's answer has no item for the record. */
  | 'missing_item';

/** Token counts as billed. */
export interface Usage {
  inputTokens: number;
  /** Thinking included. */
  outputTokens: number;
  /** The thinking part of outputTokens, when the response said. */
  thoughtsTokens?: number;
  /** The audio part of inputTokens (promptTokensDetails' AUDIO), billed at the model's audio rate; absent when none. */
  audioInputTokens?: number;
}

/** A usable output, or why not (with the raw response kept for the failure log). */
export type ResultOutcome =
  | { ok: true; output: unknown; text: string; usage: Usage; finishReason: string | null }
  | {
      ok: false;
      cause: FailureCause;
      message: string;
      raw: string | null;
      retryable: boolean;
      usage?: Usage;
      finishReason?: string | null;
    };

/** What one request came back as: a line that could not be read, or a response and/or an error. */
export type ResultInput = { malformed: true; raw: string } | { response?: unknown; error?: unknown };

/** Cap on the raw response stored with a failure. */
export const MAX_RAW_BYTES = 1024 * 1024;

const SAFETY = new Set([
  'SAFETY',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
]);
const RECITATION = new Set(['RECITATION', 'IMAGE_RECITATION']);
/** Generation cut short by a length limit (CONTINUATION: the per-request token limit). */
const TRUNCATED = new Set(['MAX_TOKENS', 'CONTINUATION']);
/** Finish reasons of an answer that ran to its end. */
const COMPLETE = new Set(['STOP', 'FINISH_REASON_UNSPECIFIED']);

/**
 * Classifies one result. Every failure is marked retryable except an API error that is a client error
 * (4xx other than 408/429): the orchestrator retries up to max_retries, then dead-letters.
 */
export function classifyResult(input: ResultInput, validator: OutputValidator): ResultOutcome {
  if ('malformed' in input && input.malformed === true) {
    return failure(
      'malformed_result',
      'The results file line for this request is not valid JSON with a response or an error.',
      capText(input.raw, MAX_RAW_BYTES),
    );
  }
  const { response, error } = input as { response?: unknown; error?: unknown };
  if (error !== undefined && error !== null) {
    const facts = rpcStatusFacts(error);
    const label = [facts.status, facts.code].filter((part) => part !== null).join(' ');
    const message = `The API failed this request${label ? ` (${label})` : ''}: ${shorten(facts.message || 'no message')}`;
    return { ...failure('api_error', message, rawJson(error)), retryable: facts.retryable };
  }
  if (
    response === undefined ||
    response === null ||
    typeof response !== 'object' ||
    Array.isArray(response)
  ) {
    return failure(
      'malformed_result',
      'The result has neither a response nor an error.',
      response === undefined ? null : rawJson(response),
    );
  }
  return classifyResponse(response as Record<string, unknown>, validator);
}

function classifyResponse(response: Record<string, unknown>, validator: OutputValidator): ResultOutcome {
  const facts = responseFacts(response);
  const { usage, finishReason } = facts;
  const judged = judgeAnswer(facts, validator);
  if ('cause' in judged)
    return { ...failure(judged.cause, judged.message, rawJson(response)), usage, finishReason };
  return { ok: true, output: judged.output, text: facts.text, usage, finishReason };
}

/** The output of a complete answer, or what is wrong with it. */
function judgeAnswer(
  facts: ResponseFacts,
  validator: OutputValidator,
): { output: unknown } | { cause: FailureCause; message: string } {
  const usage = facts.usage;
  const reason = facts.finishReason ?? 'none';
  if (facts.blockReason !== null)
    return {
      cause: 'safety',
      message: `The prompt was blocked (blockReason ${facts.blockReason}); no answer was generated.`,
    };
  if (facts.candidateCount === 0) return { cause: 'empty', message: 'The response has no candidates.' };
  if (SAFETY.has(reason))
    return { cause: 'safety', message: `The answer was blocked by safety filters (finishReason ${reason}).` };
  if (RECITATION.has(reason))
    return {
      cause: 'recitation',
      message: `The answer was stopped for reciting source material (finishReason ${reason}).`,
    };
  if (TRUNCATED.has(reason)) {
    return {
      cause: 'max_tokens',
      message: `The answer was cut off at the output token limit (finishReason ${reason}, ${usage.outputTokens} output tokens); raise max_output_tokens.`,
    };
  }
  if (facts.finishReason !== null && !COMPLETE.has(reason)) {
    // OTHER, LANGUAGE, MALFORMED_*, tool-call reasons…: whatever text there is did not end normally.
    return {
      cause: 'empty',
      message: `The model stopped without a complete answer (finishReason ${reason}).`,
    };
  }
  if (isBlank(facts.text))
    return { cause: 'empty', message: `The answer has no text (finishReason ${reason}).` };
  if (!validator.expectsJson) return { output: facts.text };
  const parsed = parseJson(facts.text);
  if (!parsed.ok)
    return {
      cause: 'invalid_json',
      message: `The answer is not valid JSON (finishReason ${reason}): ${parsed.message}`,
    };
  const verdict = validator.validate(parsed.value);
  if (!verdict.ok)
    return {
      cause: 'schema_mismatch',
      message: `The answer does not match the response schema (finishReason ${reason}): ${verdict.message}`,
    };
  return { output: parsed.value };
}

function failure(
  cause: FailureCause,
  message: string,
  raw: string | null,
): Extract<ResultOutcome, { ok: false }> {
  return { ok: false, cause, message, raw, retryable: true };
}

/** Parses an answer; a Markdown code fence around the JSON is tolerated (some models add one). */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const first = tryParse(text);
  if (first.ok) return first;
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(text);
  if (fenced) {
    const inner = tryParse(fenced[1] as string);
    if (inner.ok) return inner;
  }
  return { ok: false, message: whereItBroke(text, first.error) };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: Error } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/** "Unexpected end of JSON input" → says the text stops mid-value; a position → line, column and the text there. */
function whereItBroke(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message);
  const offset = position ? Number(position[1]) : null;
  const reason = error.message.replace(/ in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
  const atEnd = offset === null ? /end of (JSON|data)/i.test(error.message) : offset >= text.trimEnd().length;
  if (atEnd)
    return `it ends mid-value after ${text.length} characters (truncated?): …${excerpt(text, text.length)}`;
  if (offset === null) return `${shorten(reason)} (${text.length} characters)`;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${shorten(reason)} at line ${line}, column ${column}: …${excerpt(text, offset)}`;
}

function excerpt(text: string, offset: number): string {
  return JSON.stringify(text.slice(Math.max(0, offset - 40), offset + 20));
}

function shorten(text: string): string {
  return shortenText(text, 300);
}

function rawJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return capText(text, MAX_RAW_BYTES);
}
