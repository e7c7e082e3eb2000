import type { RunnerClock } from '../../clock.js';
import { GeminiApiError } from '../../gemini/index.js';
import { describeError } from '../../errors.js';
import { retryDelayMs, type RetryPolicy } from '../../retry.js';
import { ApiUnreachableError } from '../../runner/connection-watch.js';
import type { RunnerEventListener } from '../../runner/events.js';
import type { RemoteApi } from '../../runner/remote-api.js';
import type { UnusedInputFile, WorkloadStore } from '../../store/store.js';

/** What the sweep needs. */
export interface InputFileSweepDeps {
  store: WorkloadStore;
  api: Pick<RemoteApi, 'deleteFile'>;
  emit: RunnerEventListener;
  /** When a failed delete is tried again. */
  clock: RunnerClock;
  /** Uniform in [0, 1) for the backoff's jitter; default Math.random. */
  random?: () => number;
}

/**
 * At most this many deletes per sweep: a backlog (after an outage of the Files API) is worked off
 * pass by pass instead of holding one pass up.
 */
const DELETES_PER_SWEEP = 50;

/**
 * How long a file whose delete failed waits before its next try: between half and all of a minute,
 * doubling with each failure in a row, at most an hour (a file expires 48 h after its upload anyway,
 * so it is never given up on). A server's RetryInfo is honoured when longer.
 */
export const DELETE_BACKOFF: RetryPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 60_000,
  maxDelayMs: 3600_000,
};

/**
 * Deletes the uploaded JSONL inputs no active job uses any more: those of jobs refused, split,
 * abandoned or ended (once their results are applied), and those a crash left between upload and
 * create (the store records every name before its upload starts). Uploaded files count against the
 * project's 20 GB of Files storage until they expire (48 h), which a large run fills. A file already
 * gone (404, or Google's 403 "… or it may not exist") is forgotten. A delete that fails otherwise
 * (5xx, 429, no answer, or an error of the SDK itself) is tried once a pass at most and then only
 * after a backoff kept in the store (DELETE_BACKOFF); it is reported once, and neither stops the run
 * nor fails a record.
 */
export class InputFileSweep {
  /** Files whose failed delete was reported: said once, not at every pass. */
  private readonly reported = new Set<string>();

  /** One sweep; returns how many files it deleted (or found gone). */
  async sweep(deps: InputFileSweepDeps): Promise<number> {
    let forgotten = 0;
    for (const file of await deps.store.unusedInputFiles(DELETES_PER_SWEEP)) {
      try {
        await deps.api.deleteFile(file.name, { once: true });
      } catch (error) {
        // The run's own check after the sweep stops it: the other files would only fail the same way.
        if (ApiUnreachableError.isInstance(error)) break;
        if (!isGone(error)) {
          await this.deferred(deps, file, error);
          continue;
        }
      }
      await deps.store.forgetInputFile(file.name);
      this.reported.delete(file.name);
      forgotten++;
    }
    return forgotten;
  }

  /** Schedules the next try of a failed delete, and says so the first time. */
  private async deferred(deps: InputFileSweepDeps, file: UnusedInputFile, error: unknown): Promise<void> {
    const failures = file.deleteFailures + 1;
    const random = deps.random ?? Math.random;
    // Jitter over the upper half of the delay only: full jitter could draw a wait of nothing, and the
    // next pass would ask again at once.
    const delayMs = retryDelayMs(DELETE_BACKOFF, failures, error, () => 0.5 + random() / 2);
    await deps.store.deferInputFile(file.name, failures, deps.clock.now() + delayMs);
    if (this.reported.has(file.name)) return;
    this.reported.add(file.name);
    deps.emit({
      type: 'warning',
      message:
        `Deleting the uploaded input file ${file.name} failed (${describeError(error)}); ` +
        `it is tried again in ${Math.ceil(delayMs / 1000)} s, and later each time it fails.`,
    });
  }
}

/** The file is already gone: a 404, or Google's 403 "… or it may not exist". */
function isGone(error: unknown): boolean {
  return (
    GeminiApiError.isInstance(error) && (error.code === 'NOT_FOUND' || error.code === 'PERMISSION_DENIED')
  );
}
