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

/** The turnaround is the median of at most this many recently processed jobs. */
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

/** Median creation-to-processed time of the most recently processed jobs; null without enough of them. */
export function learnedTurnaroundMs(jobs: readonly JobRow[]): number | null {
  const times = jobs
    .filter((job) => job.state === 'processed')
    .slice(-TURNAROUND_SAMPLE)
    .map((job) => Date.parse(job.updatedAt) - Date.parse(job.createdAt))
    .filter((ms) => Number.isFinite(ms) && ms >= 0)
    .sort((a, b) => a - b);
  if (times.length < MIN_TURNAROUND_HISTORY) return null;
  const middle = Math.floor(times.length / 2);
  return times.length % 2 === 1
    ? (times[middle] as number)
    : ((times[middle - 1] as number) + (times[middle] as number)) / 2;
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

  /** Learns the threshold from the store's jobs; call once per pass, before polling. */
  beginPass(jobs: readonly JobRow[]): void {
    this.thresholdMs = stallThresholdMs(learnedTurnaroundMs(jobs), this.policy);
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
