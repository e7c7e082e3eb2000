import type { Lane } from '../lanes/lane.js';
import type { DecisionReason } from '../scheduler/index.js';
import type { RunnerEvent } from './events.js';

/** What one lane did in a run. */
export interface LaneFigures {
  /** Records whose output came from this lane. */
  done: number;
  /** Settled attempts (done, retried or dead-lettered). */
  attempts: number;
  /** USD of those attempts, as the inference log priced them. */
  costUsd: number;
  /**
   * In `auto`: the attempts counted above by the reason the scheduler gave for sending them here
   * (`width`, `critical_path`, `deadline`, `best_effort`, `hedge`), so the summary says why a lane
   * was paid for; absent in the fixed modes.
   */
  reasons?: Partial<Record<DecisionReason, number>>;
}

/**
 * Records and cost per lane over one run, counted from the settled attempts the runner reports
 * (the same events the inference log stores), for the run summary.
 */
export class LaneTally {
  private figures: Partial<Record<Lane, LaneFigures>> = {};
  /**
   * Why `auto` last sent each record not settled since. Counted when its attempt settles, not when
   * decided: a record the batch lane could not place (a job create refused with 429) comes back
   * ready and is decided, and logged, again, round after round (308 decisions for 12 records).
   */
  private readonly sentFor = new Map<string, DecisionReason>();
  /** Records done in the run and the input tokens billed for them, for the mean a record's prompt is. */
  private doneRecords = 0;
  private doneInputTokens = 0;

  /** Starts a new run's count. */
  reset(): void {
    this.figures = {};
    this.sentFor.clear();
    this.doneRecords = 0;
    this.doneInputTokens = 0;
  }

  /** Mean billed input tokens of the records done so far in the run; 0 before any. */
  inputTokensPerRecord(): number {
    return this.doneRecords > 0 ? this.doneInputTokens / this.doneRecords : 0;
  }

  /** Counts a settled attempt, or a record `auto` sent on a lane; other events change nothing. */
  observe(event: RunnerEvent): void {
    if (event.type === 'lane-decision') {
      // A held record carries no lane: it was not sent.
      if (event.lane !== null) this.sentFor.set(event.recordId, event.reason as DecisionReason);
      return;
    }
    if (event.type !== 'record-done' && event.type !== 'record-failed') return;
    const attempt = event.event;
    const lane = event.lane ?? attempt?.lane;
    if (!lane || !attempt) return;
    const figures = (this.figures[lane] ??= { done: 0, attempts: 0, costUsd: 0 });
    const reason = this.sentFor.get(event.recordId);
    if (reason !== undefined) {
      this.sentFor.delete(event.recordId);
      const reasons = (figures.reasons ??= {});
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
    figures.attempts += 1;
    figures.costUsd += attempt.costUsd ?? 0;
    if (event.type !== 'record-done') return;
    figures.done += 1;
    this.doneRecords += 1;
    this.doneInputTokens += attempt.inputTokens ?? 0;
  }

  /** A copy of the figures so far, lanes that did nothing left out. */
  snapshot(): Partial<Record<Lane, LaneFigures>> {
    const copy: Partial<Record<Lane, LaneFigures>> = {};
    for (const [lane, figures] of Object.entries(this.figures) as Array<[Lane, LaneFigures]>)
      copy[lane] = { ...figures, ...(figures.reasons ? { reasons: { ...figures.reasons } } : {}) };
    return copy;
  }
}
