/**
 * Quota logic of the emulator, pure and clock-injected: real-time RPM/TPM/RPD per model as sliding
 * windows of emulated time, batch admission (concurrent jobs, enqueued tokens per model), and
 * Google's RESOURCE_EXHAUSTED body. Quota names follow the ones the real API reports.
 */

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

/** Real-time generateContent limits per model: requests per minute, input tokens per minute, requests per day. */
export interface RealtimeLimits {
  rpm: number;
  tpm: number;
  rpd: number;
}

/** Batch admission limits (structurally EmulatorQuotas' batch fields, so the options object can be passed as is). */
export interface BatchLimits {
  maxConcurrentBatchJobs: number;
  maxEnqueuedTokensPerModel: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** A batch creation has no window to wait for; suggest a minute, the cadence at which jobs move. */
const BATCH_RETRY_MS = 60_000;
const SERVICE = 'generativelanguage.googleapis.com';

const QUOTA_NAMES: Record<QuotaKind, { quotaMetric: string; quotaId: string }> = {
  rpm: {
    quotaMetric: `${SERVICE}/generate_content_requests`,
    quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
  },
  tpm: {
    quotaMetric: `${SERVICE}/generate_content_input_token_count`,
    quotaId: 'GenerateContentInputTokensPerModelPerMinute',
  },
  rpd: {
    quotaMetric: `${SERVICE}/generate_content_requests`,
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

function violation(quota: QuotaKind, limit: number, model: string | null): QuotaViolation {
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

/** The message Google sends with RESOURCE_EXHAUSTED: advice, one line per exceeded metric, and the wait. */
function quotaMessage(violations: QuotaViolation[], retryDelayMs: number, detail: string): string {
  const lines = violations.map(
    (v) =>
      `* Quota exceeded for metric: ${v.quotaMetric}, limit: ${v.limit}${v.model ? `, model: ${v.model}` : ''}`,
  );
  return (
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
    `head to: https://ai.google.dev/gemini-api/docs/rate-limits.${detail}\n${lines.join('\n')}\nPlease retry in ${(retryDelayMs / 1000).toFixed(3)}s.`
  );
}

interface Use {
  at: number;
  tokens: number;
}

/**
 * Uses of one model, oldest first, kept for a day (the longest window). Two heads mark where the
 * day and the minute windows start, and the minute's tokens are kept as a running sum, so a check
 * costs O(1) amortized even with a day of traffic. Emulated time only moves forward.
 */
class UseLog {
  private uses: Use[] = [];
  private dayHead = 0;
  private minuteHead = 0;
  minuteTokens = 0;

  /** Moves both windows to end at `now`. */
  advance(now: number): void {
    for (
      let use = this.uses[this.minuteHead];
      use && use.at <= now - MINUTE_MS;
      use = this.uses[this.minuteHead]
    ) {
      this.minuteTokens -= use.tokens;
      this.minuteHead++;
    }
    for (let use = this.uses[this.dayHead]; use && use.at <= now - DAY_MS; use = this.uses[this.dayHead])
      this.dayHead++;
    // Compact now and then, so a long run does not keep dead entries forever.
    if (this.dayHead > 1024 && this.dayHead * 2 > this.uses.length) {
      this.uses = this.uses.slice(this.dayHead);
      this.minuteHead -= this.dayHead;
      this.dayHead = 0;
    }
  }

  count(window: 'minute' | 'day'): number {
    return this.uses.length - (window === 'minute' ? this.minuteHead : this.dayHead);
  }

  /** The n-th oldest use (0-based) inside the window. */
  oldest(window: 'minute' | 'day', n: number): Use | undefined {
    return this.uses[(window === 'minute' ? this.minuteHead : this.dayHead) + n];
  }

  record(use: Use): void {
    this.uses.push(use);
    this.minuteTokens += use.tokens;
  }
}

/**
 * Wait until `excess` of the oldest uses leave the window: the window holds a use while
 * now < use.at + window, so the wait is measured from the excess-th oldest one.
 */
function waitForCount(log: UseLog, window: 'minute' | 'day', excess: number, now: number): number {
  const windowMs = window === 'minute' ? MINUTE_MS : DAY_MS;
  const leaving = log.oldest(window, Math.max(0, excess - 1));
  return leaving ? leaving.at + windowMs - now : windowMs;
}

/** How long until enough of the minute's tokens leave for `tokens` more to fit under `limit`. */
function waitForTokens(log: UseLog, tokens: number, limit: number, now: number): number {
  let remaining = log.minuteTokens;
  for (let n = 0; n < log.count('minute'); n++) {
    const use = log.oldest('minute', n);
    if (!use) break;
    remaining -= use.tokens;
    if (remaining + tokens <= limit) return use.at + MINUTE_MS - now;
  }
  return MINUTE_MS;
}

/** Real-time generateContent limits per model over sliding windows of emulated time. */
export class RealtimeLimiter {
  private readonly logs = new Map<string, UseLog>();

  constructor(
    private readonly limits: RealtimeLimits,
    private readonly now: () => number,
  ) {}

  /** Admits a call of `tokens` input tokens to `model` (recording it) or returns why not and for how long. */
  check(model: string, tokens: number): QuotaError | null {
    const now = this.now();
    const name = model.replace(/^models\//, '');
    let log = this.logs.get(name);
    if (!log) {
      log = new UseLog();
      this.logs.set(name, log);
    }
    log.advance(now);
    const { rpm, tpm, rpd } = this.limits;
    const found: Array<{ violation: QuotaViolation; waitMs: number }> = [];
    let detail = '';
    if (log.count('day') >= rpd) {
      found.push({
        violation: violation('rpd', rpd, name),
        waitMs: waitForCount(log, 'day', log.count('day') - rpd + 1, now),
      });
    }
    if (log.count('minute') >= rpm) {
      found.push({
        violation: violation('rpm', rpm, name),
        waitMs: waitForCount(log, 'minute', log.count('minute') - rpm + 1, now),
      });
    }
    if (log.minuteTokens + tokens > tpm) {
      // A request above the limit never fits; say so rather than promise a wait that cannot help.
      if (tokens > tpm)
        detail = ` This request alone has ${tokens} input tokens, more than the per-minute limit of ${tpm}.`;
      found.push({
        violation: violation('tpm', tpm, name),
        waitMs: tokens > tpm ? MINUTE_MS : waitForTokens(log, tokens, tpm, now),
      });
    }
    if (found.length === 0) {
      log.record({ at: now, tokens });
      return null;
    }
    found.sort((a, b) => b.waitMs - a.waitMs);
    return new QuotaError(
      found.map((entry) => entry.violation),
      found[0]?.waitMs ?? MINUTE_MS,
      detail,
    );
  }
}

/** Whether a new batch job fits: concurrent PENDING+RUNNING jobs, and enqueued input tokens per model. */
export function checkBatchAdmission(input: {
  activeJobs: number;
  enqueuedTokensForModel: number;
  newJobTokens: number;
  limits: BatchLimits;
  /** The job's model, reported in the quota dimensions. */
  model?: string;
}): QuotaError | null {
  const model = input.model?.replace(/^models\//, '') ?? null;
  const { maxConcurrentBatchJobs, maxEnqueuedTokensPerModel } = input.limits;
  const violations: QuotaViolation[] = [];
  if (input.activeJobs >= maxConcurrentBatchJobs)
    violations.push(violation('batch_concurrent_jobs', maxConcurrentBatchJobs, null));
  if (input.enqueuedTokensForModel + input.newJobTokens > maxEnqueuedTokensPerModel) {
    violations.push(violation('batch_enqueued_tokens', maxEnqueuedTokensPerModel, model));
  }
  if (violations.length === 0) return null;
  const detail =
    input.newJobTokens > maxEnqueuedTokensPerModel
      ? ` This job alone has ${input.newJobTokens} input tokens, more than the enqueued-token limit of ${maxEnqueuedTokensPerModel}; split it.`
      : '';
  return new QuotaError(violations, BATCH_RETRY_MS, detail);
}

/**
 * A google.protobuf.Duration in JSON. Whole seconds rounded up, as Google sends them, so a client
 * never retries too early; below a second (fast emulated clocks) milliseconds, e.g. "0.060s".
 */
function durationOf(ms: number): string {
  if (ms < 1000) return `${(Math.max(1, Math.ceil(ms)) / 1000).toFixed(3)}s`;
  return `${Math.ceil(ms / 1000)}s`;
}

/**
 * Google's 429 body: {error: {code: 429, message, status: 'RESOURCE_EXHAUSTED', details: [Help,
 * QuotaFailure, RetryInfo]}}. `retryDelayMs` overrides the error's delay, e.g. converted from
 * emulated to real time by the server.
 */
export function quotaErrorBody(
  error: QuotaError,
  retryDelayMs: number = error.retryDelayMs,
): Record<string, unknown> {
  return {
    error: {
      code: 429,
      message:
        retryDelayMs === error.retryDelayMs
          ? error.message
          : quotaMessage(error.violations, retryDelayMs, error.detail),
      status: 'RESOURCE_EXHAUSTED',
      details: [
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
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: durationOf(retryDelayMs) },
      ],
    },
  };
}
