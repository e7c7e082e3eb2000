import type { OutputSink } from '../outputs/index.js';
import type { StalenessDeps } from '../outputs/staleness.js';
import type { WorkloadStore } from '../store/store.js';
import type { WorkloadRecord } from '../workload/record.js';
import type { RunnerClock } from '../clock.js';
import type { WorkAtStart } from '../scheduler/index.js';
import { describeError } from '../errors.js';
import { refusedEveryCall } from '../gemini/configuration-errors.js';
import type { RunnerEventListener } from './events.js';
import { RecordRequestError, type RecordRequestBuilder } from './record-request.js';
import type { RemoteApi } from './remote-api.js';
import type { RunnerSettings } from './settings.js';
import { redoStaleOutputs } from './stale-redo.js';
import type { TokenCalibration } from './token-calibration.js';
import { syncWorkload } from './workload-sync.js';

/** How many requests countTokens sees at start-up to calibrate the local estimator. */
const CALIBRATION_SAMPLE = 3;

/** What readying a run reads, writes and asks (see BatchRunnerOptions for each). */
export interface RunPreparationDeps {
  store: WorkloadStore;
  outputs: OutputSink;
  source: () => AsyncIterable<WorkloadRecord>;
  sourceFingerprint?: (() => string | null) | undefined;
  redoStale?: StalenessDeps | undefined;
  requests: RecordRequestBuilder;
  api: RemoteApi;
  settings: RunnerSettings;
  calibration: TokenCalibration;
  clock: RunnerClock;
  emit: RunnerEventListener;
  /** The run's row in the runs table, for the stale redo's events. */
  runId: number | null;
}

/**
 * Syncs and readies a run: the source synced into the store, stale outputs queued again (when
 * asked), the token estimate calibrated. 'interrupted' when `signal` aborted the sync (nothing more
 * was done); else what an `auto` run found to do, for its batch-only comparison (null otherwise).
 */
export async function prepareRun(
  deps: RunPreparationDeps,
  signal?: AbortSignal,
): Promise<{ workAtStart: WorkAtStart | null } | 'interrupted'> {
  const { store, outputs, source } = deps;
  const fingerprint = deps.sourceFingerprint?.() ?? null;
  if ((await syncWorkload(store, outputs, source, fingerprint, deps.emit, signal)) === 'interrupted')
    return 'interrupted';
  if (deps.redoStale)
    await redoStaleOutputs({
      ...deps.redoStale,
      store,
      runId: deps.runId,
      now: () => deps.clock.now(),
      emit: deps.emit,
    });
  await calibrateTokens(deps);
  if (deps.settings.execution.mode !== 'auto') return { workAtStart: null };
  const counts = await store.counts();
  return {
    workAtStart: {
      records: counts.ready + counts.blocked + counts.in_flight,
      deepestChain: await store.longestRunnableChain(),
    },
  };
}

/**
 * Asks countTokens about a few ready requests, so the first jobs are planned with real numbers. A
 * failed count is warned about and skipped, except one every call meets (refusedEveryCall), which ends the run.
 * A record whose request cannot be built is passed over without a word: that failure is the record's,
 * and its dead letter reports it (a warning here said it twice).
 */
async function calibrateTokens(deps: RunPreparationDeps): Promise<void> {
  const { store, requests, api, settings, calibration } = deps;
  for (const record of await store.listReady(CALIBRATION_SAMPLE)) {
    try {
      const built = await requests.build(record);
      const counted = await api.countTokens(settings.model, built.request, { once: true });
      calibration.observe(built.estimatedTokens / calibration.scale(), counted);
    } catch (error) {
      if (error instanceof RecordRequestError) continue;
      if (refusedEveryCall(error)) throw error;
      deps.emit({
        type: 'warning',
        message: `Token calibration skipped: ${describeError(error)}`,
      });
      return;
    }
  }
}
