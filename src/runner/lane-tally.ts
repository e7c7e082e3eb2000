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
   * In `auto`: the records the scheduler sent on this lane, by the reason it gave (`width`,
   * `critical_path`, `deadline`, `best_effort`, `hedge`), so the summary says why a lane was paid
   * for; absent in the fixed modes.
   */
  reasons?: Partial<Record<DecisionReason, number>>;
}

/**
 * Records and cost per lane over one run, counted from the settled attempts the runner reports
 * (the same events the inference log stores), for the run summary.
 */
export class LaneTally {
  private figures: Partial<Record<Lane, LaneFigures>> = {};

  /** Starts a new run's count. */
  reset(): void {
    this.figures = {};
  }

  /** Counts a settled attempt, or a record `auto` sent on a lane; other events change nothing. */
  observe(event: RunnerEvent): void {
    if (event.type === 'lane-decision') {
      // Each decision that sends a record is emitted once (held ones carry no lane).
      if (event.lane === null) return;
      const figures = (this.figures[event.lane] ??= { done: 0, attempts: 0, costUsd: 0 });
      const reasons = (figures.reasons ??= {});
      const reason = event.reason as DecisionReason;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      return;
    }
    if (event.type !== 'record-done' && event.type !== 'record-failed') return;
    const attempt = event.event;
    const lane = event.lane ?? attempt?.lane;
    if (!lane || !attempt) return;
    const figures = (this.figures[lane] ??= { done: 0, attempts: 0, costUsd: 0 });
    figures.attempts += 1;
    figures.costUsd += attempt.costUsd ?? 0;
    if (event.type === 'record-done') figures.done += 1;
  }

  /** A copy of the figures so far, lanes that did nothing left out. */
  snapshot(): Partial<Record<Lane, LaneFigures>> {
    const copy: Partial<Record<Lane, LaneFigures>> = {};
    for (const [lane, figures] of Object.entries(this.figures) as Array<[Lane, LaneFigures]>)
      copy[lane] = { ...figures, ...(figures.reasons ? { reasons: { ...figures.reasons } } : {}) };
    return copy;
  }
}
