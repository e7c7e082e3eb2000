/**
 * A refused call in the words of the real API: which quotas were exceeded (named as Google names
 * them), the wait until the call would be admitted, and Google's RESOURCE_EXHAUSTED (429) answer.
 * The limits themselves are checked by `RealtimeLimiter` (realtime-limiter.ts) and
 * `checkBatchAdmission` (batch-admission.ts).
 */
import { GoogleError } from './google-error.js';

/** Which limit was hit. */
export type QuotaKind = 'rpm' | 'tpm' | 'rpd' | 'batch_concurrent_jobs' | 'batch_enqueued_tokens';

/** One exceeded limit, as listed in google.rpc.QuotaFailure. */
export interface QuotaViolation {
  quota: QuotaKind;
  quotaMetric: string;
  quotaId: string;
  limit: number;
  model: string | null;
}

const SERVICE = 'generativelanguage.googleapis.com';

/*
 * A project with billing (Tier 1 and up, the emulator's default) meets the paid tier's metrics:
 * `generate_content_paid_tier_requests` and `generate_content_paid_tier_input_token_count`, with
 * quota id GenerateContentPaidTierInputTokensPerModelPerMinute for tokens (contract §5, from the
 * bodies quoted in python-genai#2044 and #1875; free-tier bodies name `…_free_tier_…` and ids ending
 * `-FreeTier`, gemini-cli#8437, #13112). The emulator named `generate_content_requests`, a metric
 * no body shows.
 */
const QUOTA_NAMES: Record<QuotaKind, { quotaMetric: string; quotaId: string }> = {
  rpm: {
    quotaMetric: `${SERVICE}/generate_content_paid_tier_requests`,
    quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
  },
  tpm: {
    quotaMetric: `${SERVICE}/generate_content_paid_tier_input_token_count`,
    quotaId: 'GenerateContentPaidTierInputTokensPerModelPerMinute',
  },
  rpd: {
    quotaMetric: `${SERVICE}/generate_content_paid_tier_requests`,
    quotaId: 'GenerateRequestsPerDayPerProjectPerModel',
  },
  batch_concurrent_jobs: {
    quotaMetric: `${SERVICE}/batch_concurrent_jobs`,
    quotaId: 'BatchConcurrentJobsPerProject',
  },
  batch_enqueued_tokens: {
    quotaMetric: `${SERVICE}/batch_enqueued_tokens`,
    quotaId: 'BatchEnqueuedTokensPerModel',
  },
};

/** The violation of `quota` at `limit`, with Google's metric and id; `model` for per-model quotas. */
export function quotaViolation(quota: QuotaKind, limit: number, model: string | null): QuotaViolation {
  return { quota, ...QUOTA_NAMES[quota], limit, model };
}

/** A refused call: which quota, and how long (emulated ms) until the call would be admitted. */
export class QuotaError extends Error {
  readonly code = 'QUOTA_EXHAUSTED' as const;
  readonly status = 'RESOURCE_EXHAUSTED' as const;
  /** The limit that needs the longest wait (the one to report). */
  readonly quota: QuotaKind;
  readonly retryDelayMs: number;
  /** Every limit the call exceeded. */
  readonly violations: QuotaViolation[];

  /** Extra explanation (a request too large for any window), kept to reword the message for another delay. */
  readonly detail: string;

  constructor(violations: QuotaViolation[], retryDelayMs: number, detail = '') {
    const first = violations[0];
    if (!first) throw new RangeError('QuotaError needs at least one violation');
    super(quotaMessage(violations, retryDelayMs, detail));
    this.name = 'QuotaError';
    this.quota = first.quota;
    this.retryDelayMs = retryDelayMs;
    this.violations = violations;
    this.detail = detail;
  }
}

/**
 * Google's opening sentences of a quota 429, in its words today ("… head to:
 * https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to:
 * https://ai.dev/rate-limit. " and then a newline, as the 2026 bodies quoted in litellm and SDK
 * logs show; gemini-cli#13112 quotes the 2025 form with https://ai.dev/usage?tab=rate-limit).
 */
const QUOTA_ADVICE =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
  'head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. ';

/** The message Google sends with RESOURCE_EXHAUSTED: advice, one line per exceeded metric, and the wait. */
function quotaMessage(violations: QuotaViolation[], retryDelayMs: number, detail: string): string {
  const lines = violations.map(
    (v) =>
      `* Quota exceeded for metric: ${v.quotaMetric}, limit: ${v.limit}${v.model ? `, model: ${v.model}` : ''}`,
  );
  return `${QUOTA_ADVICE}${detail.trim()}${detail.trim() ? ' ' : ''}\n${lines.join('\n')}\nPlease retry in ${(retryDelayMs / 1000).toFixed(3)}s.`;
}

/**
 * How RetryInfo states its delay: to the millisecond (`exact`, the default), or in whole seconds
 * rounded down (`whole_seconds`: "26s" with 26.66 s to go), as Google's 429s have stated it
 * (gemini-contract.md §5).
 */
export type RetryDelayPrecision = 'exact' | 'whole_seconds';

/**
 * A google.protobuf.Duration in JSON: the wait to the millisecond (rounded up, at least 1 ms), with
 * fractional digits when it is not whole, as Google sends it today ("45.837906927s", dcdpr/jp#1061,
 * vercel/ai#18627; "39s" when whole). It was whole seconds rounded up, which Google never sends: a
 * client that read only whole seconds, or relied on the slack, passed here and failed at Google.
 * With `whole_seconds`, the whole seconds rounded down, as Google has also sent it ("26s"): a
 * client that waits exactly that comes back up to a second early.
 */
function durationOf(ms: number, precision: RetryDelayPrecision): string {
  if (precision === 'whole_seconds') return `${Math.floor(Math.max(0, ms) / 1000)}s`;
  const whole = Math.max(1, Math.ceil(ms));
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${(whole / 1000).toFixed(3)}s`;
}

/**
 * The refusal as the GoogleError a route throws: Google's 429 with details [Help, QuotaFailure,
 * RetryInfo]. `retryDelayMs` overrides the error's delay, e.g. converted from emulated to real time
 * for clients that wait in real time; `precision` is how RetryInfo states it.
 */
export function quotaGoogleError(
  error: QuotaError,
  retryDelayMs: number = error.retryDelayMs,
  precision: RetryDelayPrecision = 'exact',
): GoogleError {
  const message =
    retryDelayMs === error.retryDelayMs
      ? error.message
      : quotaMessage(error.violations, retryDelayMs, error.detail);
  return new GoogleError('RESOURCE_EXHAUSTED', message, [
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [
        {
          description: 'Learn more about Gemini API quotas',
          url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
        },
      ],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: error.violations.map((v) => ({
        quotaMetric: v.quotaMetric,
        quotaId: v.quotaId,
        quotaDimensions: { location: 'global', ...(v.model ? { model: v.model } : {}) },
        quotaValue: String(v.limit),
      })),
    },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: durationOf(retryDelayMs, precision) },
  ]);
}

/**
 * Google's 429 body: {error: {code: 429, message, status: 'RESOURCE_EXHAUSTED', details: [Help,
 * QuotaFailure, RetryInfo]}}, for routes that answer rather than throw. `retryDelayMs` and
 * `precision` as in `quotaGoogleError`.
 */
export function quotaErrorBody(
  error: QuotaError,
  retryDelayMs: number = error.retryDelayMs,
  precision: RetryDelayPrecision = 'exact',
): Record<string, unknown> {
  return quotaGoogleError(error, retryDelayMs, precision).body();
}

/**
 * Google's 429 for a project whose Files API storage is full (FileStorageBytesPerProject, 20 GiB: its quotaValue is 21474836480):
 * QuotaFailure and Help, no RetryInfo, since only deleting files (or their 48 h expiry) frees space
 * (the body quoted in alphaXiv/feedback#16 and python-genai#1172).
 */
export function fileStorageQuotaError(limitBytes: number): GoogleError {
  return new GoogleError(
    'RESOURCE_EXHAUSTED',
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
      `head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: ${SERVICE}/file_storage_bytes, limit: ${limitBytes}`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: `${SERVICE}/file_storage_bytes`,
            quotaId: 'FileStorageBytesPerProject',
            quotaValue: String(limitBytes),
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          {
            description: 'Learn more about Gemini API quotas',
            url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
          },
        ],
      },
    ],
  );
}
