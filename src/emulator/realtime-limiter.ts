import { QuotaError, quotaViolation, type QuotaViolation } from './quotas.js';

/** Real-time generateContent limits per model: requests per minute, input tokens per minute, requests per day. */
export interface RealtimeLimits {
  rpm: number;
  tpm: number;
  rpd: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * 60_000;

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
  private readonly limitsOf: (model: string) => RealtimeLimits;

  /** `limits`: the same for every model, or each model's (name without `models/`). */
  constructor(
    limits: RealtimeLimits | ((model: string) => RealtimeLimits),
    private readonly now: () => number,
  ) {
    this.limitsOf = typeof limits === 'function' ? limits : () => limits;
  }

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
    const { rpm, tpm, rpd } = this.limitsOf(name);
    const found: Array<{ violation: QuotaViolation; waitMs: number }> = [];
    let detail = '';
    if (log.count('day') >= rpd) {
      found.push({
        violation: quotaViolation('rpd', rpd, name),
        waitMs: waitForCount(log, 'day', log.count('day') - rpd + 1, now),
      });
    }
    if (log.count('minute') >= rpm) {
      found.push({
        violation: quotaViolation('rpm', rpm, name),
        waitMs: waitForCount(log, 'minute', log.count('minute') - rpm + 1, now),
      });
    }
    if (log.minuteTokens + tokens > tpm) {
      // A request above the limit never fits; say so rather than promise a wait that cannot help.
      if (tokens > tpm)
        detail = ` This request alone has ${tokens} input tokens, more than the per-minute limit of ${tpm}.`;
      found.push({
        violation: quotaViolation('tpm', tpm, name),
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
