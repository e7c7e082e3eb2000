import { GeminiApiError } from '../../gemini/index.js';
import type { RunnerEventListener } from '../../runner/events.js';
import type { WorkloadStore } from '../../store/store.js';
import type { BatchApi } from './batch-api.js';

/** What the sweep needs. */
export interface InputFileSweepDeps {
  store: WorkloadStore;
  api: Pick<BatchApi, 'deleteFile'>;
  emit: RunnerEventListener;
}

/**
 * At most this many deletes per sweep: a backlog (after an outage of the Files API) is worked off
 * pass by pass instead of holding one pass up.
 */
const DELETES_PER_SWEEP = 50;

/**
 * Deletes the uploaded JSONL inputs no active job uses any more: those of jobs refused, split,
 * abandoned or ended (once their results are applied), and those a crash left between upload and
 * create (the store records every name before its upload starts). Uploaded files count against the
 * project's 20 GB of Files storage until they expire (48 h), which a large run fills. A file already
 * gone (404, or Google's 403 "… or it may not exist") is forgotten; a delete that fails otherwise
 * (5xx, no answer) is tried again by the next sweep; neither stops the run nor fails a record.
 */
export class InputFileSweep {
  /** Files whose failed delete was reported: said once, not at every pass. */
  private readonly reported = new Set<string>();

  /** One sweep; returns how many files it deleted (or found gone). */
  async sweep(deps: InputFileSweepDeps): Promise<number> {
    let forgotten = 0;
    for (const name of await deps.store.unusedInputFiles(DELETES_PER_SWEEP)) {
      try {
        await deps.api.deleteFile(name);
      } catch (error) {
        if (!GeminiApiError.isInstance(error)) throw error;
        if (error.code !== 'NOT_FOUND' && error.code !== 'PERMISSION_DENIED') {
          if (!this.reported.has(name)) {
            this.reported.add(name);
            deps.emit({
              type: 'warning',
              message: `Deleting the uploaded input file ${name} failed (${error.message}); it is tried again later.`,
            });
          }
          continue;
        }
      }
      await deps.store.forgetInputFile(name);
      this.reported.delete(name);
      forgotten++;
    }
    return forgotten;
  }
}
