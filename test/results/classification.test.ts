import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenerateContentResponse } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  classifyResult,
  createValidator,
  MAX_RAW_BYTES,
  type ResultOutcome,
} from '../../src/results/index.js';

const SCHEMA: unknown = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'catalogs', 'schema.json'), 'utf8'),
);
const json = createValidator(SCHEMA);
const text = createValidator(undefined);

const USAGE = {
  promptTokenCount: 812,
  candidatesTokenCount: 143,
  thoughtsTokenCount: 57,
  totalTokenCount: 1012,
};
const RATINGS = [
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

/** A GenerateContentResponse as it appears in a batch results file (REST JSON, camelCase). */
function response(
  options: {
    parts?: Array<Record<string, unknown>>;
    finishReason?: string;
    extra?: Record<string, unknown>;
  } = {},
) {
  return {
    candidates: [
      {
        content: { role: 'model', parts: options.parts ?? [{ text: JSON.stringify(PAGE) }] },
        finishReason: options.finishReason ?? 'STOP',
        index: 0,
        safetyRatings: RATINGS,
      },
    ],
    usageMetadata: USAGE,
    modelVersion: 'gemini-2.5-flash',
    responseId: 'mHkVaZ3dGqSgz7IPnrKxsAw',
    ...options.extra,
  };
}

const PAGE = {
  courses: [{ code: 'LAT 1', title: 'Elementary Latin', hours_per_week: 3 }],
  carry_over: 'GRK 2 — Homer, cont',
};

function failure(outcome: ResultOutcome): Extract<ResultOutcome, { ok: false }> {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('classifyResult', () => {
  it('accepts a valid JSON answer, skipping thought parts, and maps billed usage', () => {
    const outcome = classifyResult(
      {
        response: response({
          parts: [{ text: 'Let me read the page…', thought: true }, { text: JSON.stringify(PAGE) }],
        }),
      },
      json,
    );
    expect(outcome).toEqual({
      ok: true,
      output: PAGE,
      text: JSON.stringify(PAGE),
      usage: { inputTokens: 812, outputTokens: 200, thoughtsTokens: 57 },
      finishReason: 'STOP',
    });
  });

  it('joins an answer split over several parts', () => {
    const whole = JSON.stringify(PAGE);
    const outcome = classifyResult(
      { response: response({ parts: [{ text: whole.slice(0, 10) }, { text: whole.slice(10) }] }) },
      json,
    );
    expect(outcome).toMatchObject({ ok: true, output: PAGE });
  });

  it('returns the text itself when there is no schema', () => {
    const outcome = classifyResult(
      { response: response({ parts: [{ text: 'LAT 1 Elementary Latin, 3 hours' }] }) },
      text,
    );
    expect(outcome).toMatchObject({
      ok: true,
      output: 'LAT 1 Elementary Latin, 3 hours',
      text: 'LAT 1 Elementary Latin, 3 hours',
    });
  });

  it('treats missing usage as zero', () => {
    const bare = { candidates: [{ content: { parts: [{ text: 'hi' }] }, finishReason: 'STOP' }] };
    expect(classifyResult({ response: bare }, text)).toMatchObject({
      ok: true,
      usage: { inputTokens: 0, outputTokens: 0 },
    });
  });

  it('classifies an API error line; client errors are not retried, the rest are', () => {
    const internal = failure(
      classifyResult(
        { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } },
        json,
      ),
    );
    expect(internal).toMatchObject({ cause: 'api_error', retryable: true });
    expect(internal.message).toContain('INTERNAL 500');
    expect(internal.message).toContain('Internal error encountered.');
    expect(JSON.parse(internal.raw ?? '')).toEqual({
      code: 500,
      message: 'Internal error encountered.',
      status: 'INTERNAL',
    });
    const invalid = {
      code: 400,
      message: 'Request contains an invalid argument.',
      status: 'INVALID_ARGUMENT',
    };
    expect(classifyResult({ error: invalid }, json)).toMatchObject({ cause: 'api_error', retryable: false });
    expect(
      classifyResult({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota' } }, json),
    ).toMatchObject({ retryable: true });
    expect(classifyResult({ error: { code: 408, message: 'timeout' } }, json)).toMatchObject({
      retryable: true,
    });
    expect(
      classifyResult({ error: { code: 404, status: 'NOT_FOUND', message: 'no model' } }, json),
    ).toMatchObject({ retryable: false });
    // gRPC canonical codes, as in a google.rpc.Status: 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, 10 ABORTED.
    expect(classifyResult({ error: { code: 3, message: 'bad' } }, json)).toMatchObject({ retryable: false });
    expect(classifyResult({ error: { code: 8, message: 'quota' } }, json)).toMatchObject({ retryable: true });
    expect(classifyResult({ error: { code: 14, message: 'unavailable' } }, json)).toMatchObject({
      retryable: true,
    });
    expect(classifyResult({ error: { code: 10, message: 'aborted' } }, json)).toMatchObject({
      retryable: true,
    });
    expect(classifyResult({ error: { status: 'PERMISSION_DENIED', message: 'denied' } }, json)).toMatchObject(
      { retryable: false },
    );
    // An uploaded media file that expired: the retry rebuilds the request and uploads it again.
    const expired = {
      code: 403,
      status: 'PERMISSION_DENIED',
      message: 'You do not have permission to access the File abc or it may not exist.',
    };
    expect(classifyResult({ error: expired }, json)).toMatchObject({ cause: 'api_error', retryable: true });
  });

  it('classifies a blocked prompt as safety', () => {
    const blocked = {
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT', safetyRatings: RATINGS },
      usageMetadata: { promptTokenCount: 40, totalTokenCount: 40 },
      modelVersion: 'gemini-2.5-flash',
    };
    const outcome = failure(classifyResult({ response: blocked }, json));
    expect(outcome).toMatchObject({
      cause: 'safety',
      retryable: true,
      usage: { inputTokens: 40, outputTokens: 0 },
    });
    expect(outcome.message).toContain('PROHIBITED_CONTENT');
    expect(JSON.parse(outcome.raw ?? '')).toEqual(blocked);
  });

  it('classifies every safety finish reason as safety, retryable', () => {
    for (const reason of ['SAFETY', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) {
      const blocked = response({
        parts: [],
        finishReason: reason,
        extra: {
          candidates: [
            {
              finishReason: reason,
              index: 0,
              safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }],
            },
          ],
        },
      });
      const outcome = failure(classifyResult({ response: blocked }, json));
      expect(outcome, reason).toMatchObject({ cause: 'safety', retryable: true });
      expect(outcome.message).toContain(reason);
    }
  });

  it('classifies recitation, truncation and empty answers', () => {
    const recitation = failure(
      classifyResult(
        { response: response({ parts: [{ text: '{"courses": [' }], finishReason: 'RECITATION' }) },
        json,
      ),
    );
    expect(recitation).toMatchObject({ cause: 'recitation', retryable: true });
    expect(recitation.message).toContain('RECITATION');
    const truncated = failure(
      classifyResult(
        {
          response: response({ parts: [{ text: '{"courses": [{"code": "LAT' }], finishReason: 'MAX_TOKENS' }),
        },
        json,
      ),
    );
    expect(truncated).toMatchObject({ cause: 'max_tokens', retryable: true });
    expect(truncated.message).toContain('MAX_TOKENS');
    const none = failure(classifyResult({ response: { candidates: [], usageMetadata: USAGE } }, json));
    expect(none).toMatchObject({ cause: 'empty', retryable: true });
    const blank = failure(classifyResult({ response: response({ parts: [{ text: '  \n' }] }) }, text));
    expect(blank).toMatchObject({ cause: 'empty' });
    expect(blank.message).toContain('STOP');
    const onlyThoughts = failure(
      classifyResult({ response: response({ parts: [{ text: 'thinking', thought: true }] }) }, json),
    );
    expect(onlyThoughts.cause).toBe('empty');
    const noContent = failure(
      classifyResult({ response: { candidates: [{ finishReason: 'STOP', index: 0 }] } }, json),
    );
    expect(noContent.cause).toBe('empty');
    const other = failure(
      classifyResult({ response: response({ parts: [{ text: 'partial' }], finishReason: 'OTHER' }) }, text),
    );
    expect(other).toMatchObject({ cause: 'empty' });
    expect(other.message).toContain('OTHER');
  });

  it('says where invalid JSON broke', () => {
    const truncated = failure(
      classifyResult(
        { response: response({ parts: [{ text: '{"courses": [{"code": "LAT 1", "ti' }] }) },
        json,
      ),
    );
    expect(truncated).toMatchObject({ cause: 'invalid_json', retryable: true });
    expect(truncated.message).toMatch(/ends mid-value after 34 characters/);
    expect(truncated.message).toContain('STOP');
    const broken = failure(
      classifyResult(
        { response: response({ parts: [{ text: '{\n  "courses": [],\n  "carry_over": "x" "oops"\n}' }] }) },
        json,
      ),
    );
    expect(broken.cause).toBe('invalid_json');
    expect(broken.message).toMatch(/line 3, column \d+/);
    expect(broken.message).toContain('oops');
  });

  it('tolerates a Markdown fence around otherwise valid JSON', () => {
    const fenced = '```json\n' + JSON.stringify(PAGE) + '\n```';
    expect(classifyResult({ response: response({ parts: [{ text: fenced }] }) }, json)).toMatchObject({
      ok: true,
      output: PAGE,
    });
  });

  it('lists schema errors with their instance paths', () => {
    const wrong = {
      courses: [
        { code: 'LAT 1', title: 'Latin', hours_per_week: 'three' },
        { code: 7, title: 'Greek', hours_per_week: 2 },
      ],
    };
    const outcome = failure(
      classifyResult({ response: response({ parts: [{ text: JSON.stringify(wrong) }] }) }, json),
    );
    expect(outcome).toMatchObject({ cause: 'schema_mismatch', retryable: true });
    expect(outcome.message).toContain("/ must have required property 'carry_over'");
    expect(outcome.message).toContain('/courses/0/hours_per_week must be integer');
    expect(outcome.message).toContain('/courses/1/code must be string');
  });

  it('caps the number of schema errors it lists', () => {
    const validator = createValidator({ type: 'array', items: { type: 'integer' } });
    const outcome = failure(
      classifyResult(
        {
          response: response({ parts: [{ text: JSON.stringify(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) }] }),
        },
        validator,
      ),
    );
    expect(outcome.message).toContain('/0 must be integer');
    expect(outcome.message).toContain('(+3 more)');
    expect(outcome.message).not.toContain('/5 must');
  });

  it('classifies malformed and empty result lines', () => {
    const malformed = failure(classifyResult({ malformed: true, raw: '{"key": "a", "resp' }, json));
    expect(malformed).toEqual({
      ok: false,
      cause: 'malformed_result',
      message: expect.any(String),
      raw: '{"key": "a", "resp',
      retryable: true,
    });
    expect(failure(classifyResult({}, json)).cause).toBe('malformed_result');
    expect(failure(classifyResult({ response: 'not an object' }, json)).cause).toBe('malformed_result');
  });

  it('caps the raw response kept with a failure at about 1 MB, saying so', () => {
    const long = 'x'.repeat(3 * 1024 * 1024);
    const outcome = failure(
      classifyResult({ response: response({ parts: [{ text: long }], finishReason: 'MAX_TOKENS' }) }, json),
    );
    expect(outcome.cause).toBe('max_tokens');
    expect(Buffer.byteLength(outcome.raw ?? '')).toBeLessThan(MAX_RAW_BYTES + 200);
    expect(outcome.raw).toMatch(/\[truncated: \d+ bytes in all, first \d+ kept\]$/);
  });

  it('reads the SDK GenerateContentResponse class the same way as REST JSON', () => {
    const sdk = Object.assign(
      new GenerateContentResponse(),
      response({ parts: [{ text: 'pondering', thought: true }, { text: JSON.stringify(PAGE) }] }),
    );
    expect(sdk.text).toBe(JSON.stringify(PAGE));
    expect(classifyResult({ response: sdk }, json)).toMatchObject({
      ok: true,
      output: PAGE,
      usage: { inputTokens: 812, outputTokens: 200 },
    });
  });
});
