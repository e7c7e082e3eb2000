import type { BatchJobInfo } from '../../gemini/index.js';
import type { JobRow } from '../../store/store.js';

/** What to do with a stalled job (`execution.stall_action`). */
/**
 * `cancel` and `split` both cancel a stalled job while nothing of it was processed; `split` then
 * sends its records as two jobs of half its size (a smaller job may get through a queue a large
 * one is stuck in, and one bad request no longer holds all of them).
 */
export type StallAction = 'wait' | 'cancel' | 'split';

/** When a batch job counts as stalled, and what is done about it (from `execution.stall_*`). */
export interface StallPolicy {
  /** A job is stalled once older than this many times the learned turnaround. */
  factor: number;
  /** …and never before this age. */
  minAgeMs: number;
  action: StallAction;
}

/** The turnaround is learned from at most this many recent jobs (processed or still active). */
export const TURNAROUND_SAMPLE = 50;
/**
 * A record's jobs are cancelled for a stall at most this many times in one process; after that its
 * stalled job is waited for. When Google's queue is slow for every job, cancelling and resubmitting
 * again and again only puts the records back at the end of the queue (seen: 1,356 cancels in one
 * emulated run with every job stuck).
 */
export const MAX_STALL_CANCELS_PER_RECORD = 2;

/** Fewer processed jobs than this teach nothing yet. */
export const MIN_TURNAROUND_HISTORY = 3;
/** Without that history a job is stalled after Google's target turnaround (24 h). */
export const UNLEARNED_STALL_MS = 24 * 3600_000;

/** Jobs whose turnaround is still running: their age so far is a lower bound of it. */
const ACTIVE: ReadonlySet<JobRow['state']> = new Set(['pending', 'running', 'succeeded']);

/**
 * The median creation-to-processed time of the most recent jobs, counting the jobs still active as
 * lasting at least their age (a Kaplan–Meier estimate, for right-censored times); null with fewer
 * than MIN_TURNAROUND_HISTORY processed jobs, or while too many jobs are still out to say (more than
 * half of them could yet outlast any time seen so far).
 *
 * The finished jobs alone are the fast ones: early in a run, with a heavy-tailed turnaround (a
 * median of 40 min, a tail of hours), the first three jobs back said "10 minutes" while twenty
 * more had been out for an hour, and routine jobs were called stalled and cancelled.
 */
export function learnedTurnaroundMs(jobs: readonly JobRow[], now: number): number | null {
  const sample = jobs
    .filter((job) => job.state === 'processed' || ACTIVE.has(job.state))
    .slice(-TURNAROUND_SAMPLE);
  const times = sample
    .map((job) => {
      const created = Date.parse(job.createdAt);
      const ended = job.state === 'processed';
      return { ms: (ended ? Date.parse(job.updatedAt) : now) - created, ended };
    })
    .filter(({ ms }) => Number.isFinite(ms) && ms >= 0)
    // At equal times the ended ones first: a job still out at t was at risk of ending at t.
    .sort((a, b) => a.ms - b.ms || Number(b.ended) - Number(a.ended));
  if (times.filter(({ ended }) => ended).length < MIN_TURNAROUND_HISTORY) return null;
  let atRisk = times.length;
  let surviving = 1;
  for (let index = 0; index < times.length;) {
    const ms = (times[index] as { ms: number }).ms;
    let ended = 0;
    let leaving = 0;
    for (; index < times.length && (times[index] as { ms: number }).ms === ms; index++, leaving++)
      if ((times[index] as { ended: boolean }).ended) ended++;
    surviving *= 1 - ended / atRisk;
    atRisk -= leaving;
    if (surviving < 0.5 - 1e-9) return ms;
    // Exactly half left: the median lies between this time and the next one a job ended at, as
    // an ordinary median of an even count does.
    if (surviving <= 0.5 + 1e-9 && ended > 0) {
      const next = times.slice(index).find((time) => time.ended);
      return next ? (ms + next.ms) / 2 : ms;
    }
  }
  return null;
}

/** The age past which a PENDING or RUNNING job is stalled. */
export function stallThresholdMs(turnaroundMs: number | null, policy: StallPolicy): number {
  const learned = turnaroundMs === null ? UNLEARNED_STALL_MS : policy.factor * turnaroundMs;
  return Math.max(policy.minAgeMs, learned);
}

/**
 * Whether cancelling the job can cost nothing twice: it is PENDING, or RUNNING with batchStats saying
 * no request was processed yet. A job with processed requests is billed for them; cancelling it
 * would send (and bill) them again, since a cancelled job returns no results.
 */
export function nothingProcessed(remote: BatchJobInfo): boolean {
  if (remote.state === 'pending') return true;
  const stats = remote.stats;
  // Proto JSON omits zero counts: known stats without processed counts mean none were processed.
  if (remote.state !== 'running' || stats?.requestCount === undefined) return false;
  return (stats.successfulRequestCount ?? 0) + (stats.failedRequestCount ?? 0) === 0;
}

/** What to do about one polled job now. */
export type StallVerdict =
  | { kind: 'none' }
  /** Newly stalled: report it (and cancel it, when `cancel` is true). */
  | { kind: 'stalled'; ageMs: number; thresholdMs: number; cancel: boolean };

/**
 * Watches the active jobs of one run for stalls: the threshold is learned afresh each pass from
 * the store's processed jobs; each stalled job is reported once, and cancelled once when the policy
 * says so and nothing of it was processed (a failed cancel is tried again on the next poll).
 */
export class StallWatch {
  private thresholdMs = UNLEARNED_STALL_MS;
  private readonly reported = new Set<string>();
  private readonly cancelled = new Set<string>();
  private readonly stalledNow = new Set<string>();
  private readonly recordCancels = new Map<string, number>();
  /** Jobs cancelled for a stall and not yet taken, with their records. */
  private readonly cancelledJobs: Array<{ jobId: string; recordIds: readonly string[] }> = [];

  constructor(private readonly policy: StallPolicy) {}

  /** Learns the threshold from the store's jobs at `now`; call once per pass, before polling. */
  beginPass(jobs: readonly JobRow[], now: number): void {
    this.thresholdMs = stallThresholdMs(learnedTurnaroundMs(jobs, now), this.policy);
    this.stalledNow.clear();
  }

  /** The verdict on a polled job that is still PENDING or RUNNING. */
  check(job: JobRow, remote: BatchJobInfo, now: number): StallVerdict {
    const ageMs = now - Date.parse(job.createdAt);
    if (!(ageMs > this.thresholdMs)) return { kind: 'none' };
    this.stalledNow.add(job.id);
    const cancel = this.policy.action !== 'wait' && !this.cancelled.has(job.id) && nothingProcessed(remote);
    if (this.reported.has(job.id) && !cancel) return { kind: 'none' };
    this.reported.add(job.id);
    if (cancel) this.cancelled.add(job.id);
    return { kind: 'stalled', ageMs, thresholdMs: this.thresholdMs, cancel };
  }

  /** Whether a stalled job of these records may still be cancelled (see MAX_STALL_CANCELS_PER_RECORD). */
  mayCancel(recordIds: readonly string[]): boolean {
    return recordIds.every((id) => (this.recordCancels.get(id) ?? 0) < MAX_STALL_CANCELS_PER_RECORD);
  }

  /** Records a job cancelled for a stall: a cancel counted against each of its records. */
  countCancel(jobId: string, recordIds: readonly string[]): void {
    for (const id of recordIds) this.recordCancels.set(id, (this.recordCancels.get(id) ?? 0) + 1);
    this.cancelledJobs.push({ jobId, recordIds });
  }

  /** The jobs cancelled for a stall since the last call, with their records (to split or hedge them). */
  takeCancelled(): Array<{ jobId: string; recordIds: readonly string[] }> {
    return this.cancelledJobs.splice(0);
  }

  /** A cancel that failed is tried again on the next poll. */
  cancelFailed(jobId: string): void {
    this.cancelled.delete(jobId);
  }

  /** Jobs found stalled in this pass. */
  stalledCount(): number {
    return this.stalledNow.size;
  }
}
