import { GeminiApiError, type BatchJobInfo } from '../../gemini/index.js';
import { isOwnJobName } from '../../planner/job-name.js';
import { retryDelayMs, type RetryPolicy } from '../../retry.js';
import type { JobRow } from '../../store/store.js';
import { createRemoteJob } from './job-creation.js';
import { endsTheRun } from '../../gemini/configuration-errors.js';
import type { SubmissionDeps } from './job-submission.js';

/** What the reconciler needs: submission's needs plus how often to look for unwatched jobs. */
export interface ReconcilerDeps extends SubmissionDeps {
  /** The whole remote job list is checked this often (and at start) for jobs the store does not track. */
  scanIntervalMs: number;
}

/** What one reconciliation did. */
export interface Reconciliation {
  /** Set when a create met an exhausted quota; the runner waits before trying again. */
  quotaRetryDelayMs: number | null;
  /** Remote jobs of ours that nothing watched, cancelled now. */
  orphansCancelled: number;
}

/**
 * Keeps the remote side in line with the store, so that nothing of ours runs unwatched:
 *
 * - every stored intent (a job whose create failed for a passing reason, or was interrupted by a
 *   crash) is adopted if a remote job of its name exists, else created again, after a backoff that
 *   grows with each failure and honours the server's RetryInfo;
 * - at start and every `scanIntervalMs`, every remote job named with this store's prefix that the
 *   store does not track (a duplicate of a tracked job, or one whose intent was lost, e.g. to a
 *   `wavebatch reset`) is cancelled while it is PENDING or RUNNING, and reported. It is not adopted:
 *   its records may already be done or in another live job, and applying it would bill them twice.
 */
export class RemoteReconciler {
  private nextScanAt = Number.NEGATIVE_INFINITY;
  private readonly backoff = new Map<string, { failures: number; notBefore: number }>();

  /** Schedules the retry of an intent whose create failed for a passing reason. */
  defer(deps: ReconcilerDeps, jobId: string, error: unknown): void {
    const failures = (this.backoff.get(jobId)?.failures ?? 0) + 1;
    const delay = retryDelayMs(
      intentPolicy(deps.settings.retryPolicy),
      failures,
      error,
      deps.random ?? Math.random,
    );
    this.backoff.set(jobId, { failures, notBefore: deps.clock.now() + delay });
  }

  /** Adopts or creates the intents that are due and, when a scan is due, cancels unwatched jobs. */
  async reconcile(deps: ReconcilerDeps): Promise<Reconciliation> {
    const { store, clock, jobPrefix } = deps;
    const outcome: Reconciliation = { quotaRetryDelayMs: null, orphansCancelled: 0 };
    const now = clock.now();
    const intents = await store.listJobs(['intent']);
    const due = intents.filter((intent) => (this.backoff.get(intent.id)?.notBefore ?? now) <= now);
    const scanDue = now >= this.nextScanAt;
    if (due.length === 0 && !scanDue) return outcome;

    let ours: BatchJobInfo[];
    try {
      ours = [];
      for await (const remote of deps.api.listBatches())
        if (isOwnJobName(jobPrefix, remote.displayName)) ours.push(remote);
    } catch (error) {
      if (!GeminiApiError.isInstance(error) || endsTheRun(error)) throw error;
      deps.emit({
        type: 'warning',
        message: `Listing remote jobs failed (${error.message}); tried again on the next pass.`,
      });
      for (const intent of due) this.defer(deps, intent.id, error);
      return outcome;
    }
    const byName = new Map<string, BatchJobInfo>();
    for (const remote of ours)
      if (!byName.has(remote.displayName ?? '')) byName.set(remote.displayName ?? '', remote);

    for (const intent of intents) {
      const remote = byName.get(intent.id);
      if (remote) await this.adopt(deps, intent, remote);
      else if (due.includes(intent) && outcome.quotaRetryDelayMs === null)
        outcome.quotaRetryDelayMs = await this.createAgain(deps, intent);
    }
    if (scanDue) {
      this.nextScanAt = now + deps.scanIntervalMs;
      outcome.orphansCancelled = await this.cancelUnwatched(deps, ours);
    }
    return outcome;
  }

  private async adopt(deps: ReconcilerDeps, intent: JobRow, remote: BatchJobInfo): Promise<void> {
    await deps.store.markJobSubmitted(intent.id, remote.name, null);
    this.backoff.delete(intent.id);
    deps.emit({ type: 'job-adopted', jobId: intent.id, remoteName: remote.name });
  }

  /** Creates an intent that no remote job carries; returns the quota wait, if a quota refused it. */
  private async createAgain(deps: ReconcilerDeps, intent: JobRow): Promise<number | null> {
    const created = await createRemoteJob(deps, intent);
    switch (created.kind) {
      case 'deferred':
        this.defer(deps, intent.id, created.error);
        return null;
      case 'quota':
        this.backoff.delete(intent.id);
        return created.retryDelayMs ?? deps.settings.pollIntervalMs;
      case 'created':
      case 'adopted':
      case 'failed':
      case 'abandoned':
      case 'split':
        this.backoff.delete(intent.id);
        return null;
      default:
        return created satisfies never;
    }
  }

  /** Cancels live remote jobs of ours that the store does not track under that remote name. */
  private async cancelUnwatched(deps: ReconcilerDeps, ours: BatchJobInfo[]): Promise<number> {
    let cancelled = 0;
    for (const remote of ours) {
      if (remote.state !== 'pending' && remote.state !== 'running') continue;
      const reason = unwatchedReason(remote, await deps.store.getJob(remote.displayName ?? ''));
      if (reason === null) continue;
      try {
        await deps.api.cancelBatch(remote.name);
      } catch (error) {
        if (!GeminiApiError.isInstance(error)) throw error;
        deps.emit({
          type: 'warning',
          message: `Cancelling unwatched job ${remote.name} failed (${error.message}); tried again later.`,
        });
        this.nextScanAt = Math.min(this.nextScanAt, deps.clock.now());
        continue;
      }
      cancelled++;
      deps.emit({
        type: 'job-orphan',
        remoteName: remote.name,
        displayName: remote.displayName ?? '',
        action: 'cancelled',
        reason,
      });
    }
    return cancelled;
  }
}

/**
 * Why a remote job named with this store's prefix is watched by nothing, given the store's job of
 * that name (null when the store has none); null when the store tracks it (or is creating it).
 */
export function unwatchedReason(remote: BatchJobInfo, stored: JobRow | null): string | null {
  if (stored && (stored.remoteName === remote.name || stored.state === 'intent')) return null;
  return stored
    ? `a second remote job for ${stored.id}, which is tracked as ${stored.remoteName ?? 'an intent'}`
    : 'a job of this store that the store does not track (its intent was lost, e.g. by `wavebatch reset`)';
}

/** Retries of an intent across passes: longer than one call's, up to 10 minutes apart. */
function intentPolicy(call: RetryPolicy): RetryPolicy {
  return { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: call.baseDelayMs * 4, maxDelayMs: 600_000 };
}
