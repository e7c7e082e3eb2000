/**
 * The enqueued-token budget batch jobs are packed to. It starts at the configured one
 * (execution.enqueued_token_budget, at most the usage tier's limit) and learns from the API: jobs are
 * packed on estimated tokens, and when the estimates undercount (media, long contexts) jobs that fit
 * the budget by estimate are refused with a 429 for enqueued tokens near the limit, each refusal
 * waited out (RetryInfo, a minute at Google) before the next round packs the same excess again.
 *
 * A refusal for enqueued tokens shrinks the budget to what the API just showed it takes: what is
 * enqueued already (it admitted that), or, when that is little, four fifths of what it refused
 * (what is enqueued plus the refused job); never above the budget at the time. It grows back
 * carefully: a tenth of the configured budget for every 10 minutes without another such refusal,
 * so an estimate that has since become right (the run calibrates it from billed usage) costs at
 * most one more refusal per step, never a refusal at every round. Pure: time is passed in.
 */

/** Shrunk to at least this share of what was refused (enqueued + the refused job). */
const REFUSED_SHARE_KEPT = 0.8;
/** Grows back by this share of the configured budget per GROWTH_INTERVAL_MS without a refusal. */
const GROWTH_SHARE = 0.1;
const GROWTH_INTERVAL_MS = 10 * 60_000;

/** What one refusal did to the budget. */
export interface BudgetShrink {
  /** The budget before and after, in estimated tokens. */
  from: number;
  to: number;
  /** True for the run's first shrink (to be reported; later ones only change the number). */
  first: boolean;
}

export class EnqueuedTokenBudget {
  private learned: number;
  private shrunkAt = Number.NEGATIVE_INFINITY;
  private shrinks = 0;

  /** `configured`: the budget the config allows (already capped by the usage tier's limit). */
  constructor(readonly configured: number) {
    this.learned = configured;
  }

  /** Estimated tokens the packer may keep enqueued at `now`. */
  current(now: number): number {
    if (this.learned >= this.configured) return this.configured;
    const steps = Math.floor(Math.max(0, now - this.shrunkAt) / GROWTH_INTERVAL_MS);
    return Math.min(this.configured, this.learned + steps * Math.ceil(this.configured * GROWTH_SHARE));
  }

  /**
   * A create was refused for enqueued tokens while `enqueued` estimated tokens of this run's jobs were
   * active and the refused job held `refusedJob`: shrinks the budget (see the module comment).
   */
  refused(enqueued: number, refusedJob: number, now: number): BudgetShrink {
    const from = this.current(now);
    const shown = Math.max(enqueued, Math.floor((enqueued + refusedJob) * REFUSED_SHARE_KEPT));
    const to = Math.max(1, Math.min(from, shown));
    this.learned = to;
    this.shrunkAt = now;
    this.shrinks += 1;
    return { from, to, first: this.shrinks === 1 };
  }
}
