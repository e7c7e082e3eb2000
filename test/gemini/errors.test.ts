import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { GeminiApiError } from '../../src/gemini/index.js';
import {
  inputTokensPerMinuteLimitOf,
  isEnqueuedTokenRefusal,
  payloadLimitOf,
  toGeminiApiError,
} from '../../src/gemini/errors.js';

const KEY = 'AIzaFAKE-distinctive-key-8f3b1c';

function apiError(status: number, body: unknown): ApiError {
  return new ApiError({ status, message: JSON.stringify(body) });
}

describe('toGeminiApiError', () => {
  it('classifies a 429 as QUOTA_EXHAUSTED with the RetryInfo delay', () => {
    const error = toGeminiApiError(
      apiError(429, {
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          message: 'Enqueued tokens limit reached',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37.5s' }],
        },
      }),
      'Creating batch x',
      { apiKey: KEY },
    );
    expect(error).toBeInstanceOf(GeminiApiError);
    expect(error).toMatchObject({
      code: 'QUOTA_EXHAUSTED',
      status: 429,
      retryDelayMs: 37_500,
      retryable: true,
    });
    expect(error.message).toContain('Enqueued tokens limit reached');
    expect(error.message).toContain('wait 38 s');
  });

  it('honours a RetryInfo delay for an hour at most (a server asking for years is asked again)', () => {
    const asking = (retryDelay: unknown) =>
      toGeminiApiError(
        apiError(429, {
          error: {
            code: 429,
            status: 'RESOURCE_EXHAUSTED',
            message: 'Slow down',
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }],
          },
        }),
        'Generating',
      );
    expect(asking('99999999999s').retryDelayMs).toBe(3_600_000);
    expect(asking({ seconds: 10 ** 12 }).retryDelayMs).toBe(3_600_000);
    expect(asking('3599.5s').retryDelayMs).toBe(3_599_500);
    expect(asking('99999999999s').message).toContain('wait 3600 s');
  });

  it.each([
    [404, 'NOT_FOUND', 'NOT_FOUND', false],
    [400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', false],
    [403, 'PERMISSION_DENIED', 'PERMISSION_DENIED', false],
    [401, 'UNAUTHENTICATED', 'PERMISSION_DENIED', false],
    [503, 'UNAVAILABLE', 'UNAVAILABLE', true],
    [500, 'INTERNAL', 'INTERNAL', true],
    [502, undefined, 'UNKNOWN', true],
    [409, undefined, 'UNKNOWN', false],
    [499, 'CANCELLED', 'UNAVAILABLE', true],
    [504, 'DEADLINE_EXCEEDED', 'UNAVAILABLE', true],
    [408, 'Request Timeout', 'UNAVAILABLE', true],
  ] as const)('HTTP %i %s -> %s', (status, rpc, code, retryable) => {
    const error = toGeminiApiError(
      apiError(status, { error: { code: status, status: rpc, message: 'm' } }),
      'op',
      { apiKey: KEY },
    );
    expect(error).toMatchObject({ code, status, retryable });
    expect(error.retryDelayMs).toBeUndefined();
  });

  // Read as UNKNOWN (or a malformed request), the same job was packed again at the same size until
  // its records were dead-lettered, with advice to retry later.
  it.each([
    [
      "the front end's HTML page",
      new ApiError({
        status: 413,
        message: '<html><title>Error 413 (Request Entity Too Large)!!1</title></html>',
      }),
      undefined,
    ],
    ['a JSON error', apiError(413, { error: { code: 413, message: 'Request Entity Too Large' } }), undefined],
    [
      "the API's 400 naming its limit",
      apiError(400, {
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: 'Request payload size exceeds the limit: 20971520 bytes.',
        },
      }),
      20_971_520,
    ],
  ] as const)(
    'a body too large (%s) is PAYLOAD_TOO_LARGE, not retried, no "retry later"',
    (_, raw, limit) => {
      const error = toGeminiApiError(raw, 'Creating batch x', { apiKey: KEY });
      expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', retryable: false });
      expect(error.message).not.toMatch(/retry later/i);
      expect(error.message).toMatch(/smaller jobs/);
      expect(payloadLimitOf(error)).toBe(limit);
    },
  );

  it("reads the quotas a 429 names from its QuotaFailure, in Google's words", () => {
    const refused = (violations: unknown[]) =>
      toGeminiApiError(
        apiError(429, {
          error: {
            code: 429,
            status: 'RESOURCE_EXHAUSTED',
            message: 'You exceeded your current quota.',
            details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations }],
          },
        }),
        'op',
      );
    // The body quoted in gemini-contract.md §5 (python-genai#2044).
    const tpm = refused([
      {
        quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count',
        quotaId: 'GenerateContentPaidTierInputTokensPerModelPerMinute',
        quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
        quotaValue: '1000000',
      },
    ]);
    expect(inputTokensPerMinuteLimitOf(tpm)).toBe(1_000_000);
    expect(isEnqueuedTokenRefusal(tpm)).toBe(false);
    const enqueued = refused([
      { quotaMetric: 'generativelanguage.googleapis.com/batch_enqueued_tokens', quotaValue: '3000000' },
    ]);
    expect(isEnqueuedTokenRefusal(enqueued)).toBe(true);
    expect(inputTokensPerMinuteLimitOf(enqueued)).toBeUndefined();
    // A bare 429 names nothing.
    expect(isEnqueuedTokenRefusal(refused([]))).toBe(false);
  });

  it('treats fetch failures as retryable NETWORK errors', () => {
    const error = toGeminiApiError(
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
      'op',
      { apiKey: KEY },
    );
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true, status: undefined });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('never lets the key through, neither in the message nor as a cause', () => {
    const error = toGeminiApiError(
      apiError(400, {
        error: { code: 400, message: `API key not valid: ${KEY}; url https://x/y?key=${KEY}&a=1` },
      }),
      'op',
      { apiKey: KEY },
    );
    expect(error.message).not.toContain(KEY);
    expect(error.message).toContain('[redacted]');
    expect(error.cause).toBeUndefined();
    const network = toGeminiApiError(new Error(`boom ${KEY}`), 'op', { apiKey: KEY });
    expect(network.message).not.toContain(KEY);
  });
});
