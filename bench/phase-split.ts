// Splits a batch run's wall time into the runner's phases. The runner emits no event when a phase
// starts, so each phase is recognised by the store query that opens it (see src/runner/): a change
// there shows up here as time in the wrong phase, or as "unrecognised".
import type { WorkloadStore } from '../src/store/store.js';

export type Phase = 'prepare' | 'service' | 'submit' | 'summary' | 'sleep' | 'unrecognised';

/** Wall time per phase, in ms, for a run whose store and sleeps are watched. */
export class PhaseSplit {
  readonly totals: Record<Phase, number> = {
    prepare: 0,
    service: 0,
    submit: 0,
    summary: 0,
    sleep: 0,
    unrecognised: 0,
  };
  private current: Phase = 'prepare';
  private since = performance.now();

  /** Closes the current phase and opens `phase`. */
  enter(phase: Phase): void {
    const now = performance.now();
    this.totals[this.current] += now - this.since;
    this.current = phase;
    this.since = now;
  }

  /** Closes the last phase; call once the run returns. */
  finish(): void {
    this.enter(this.current);
  }

  /** Wraps `store.listJobs` in place: service lists the submitted jobs, submission the active ones, the summary all. */
  watch(store: WorkloadStore): void {
    const listJobs = store.listJobs.bind(store);
    store.listJobs = (states) => {
      this.enter(phaseOf(states, this.current));
      return listJobs(states);
    };
  }
}

function phaseOf(states: readonly string[] | undefined, current: Phase): Phase {
  if (states === undefined) return 'summary';
  const key = [...states].sort().join(',');
  if (key === 'intent') return current === 'prepare' ? 'prepare' : 'unrecognised';
  if (key === 'pending,running,succeeded') return 'service';
  if (key === 'intent,pending,running,succeeded') return 'submit';
  return 'unrecognised';
}
