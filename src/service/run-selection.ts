import type { LoadedConfig } from '../config/index.js';
import { systemClock } from '../clock.js';
import type { OutputSink } from '../outputs/index.js';
import { syncWorkload } from '../runner/workload-sync.js';
import type { WorkloadStore } from '../store/store.js';
import { openSource, sourceFingerprint } from '../workload/index.js';
import { storedChains } from './chains.js';
import { planSelection, scopeOf, type RecordSelection, type SelectionPlan } from './selection.js';

/** What planning a selection reads: the workload's store (held under its lease), outputs and config. */
export interface SelectionDeps {
  store: WorkloadStore;
  outputs: OutputSink;
  config: LoadedConfig;
}

/**
 * Brings the store in line with the source and the outputs (as a run's start does; an unchanged
 * source is not read again), then plans the selection over the stored records. The caller holds the
 * store's lease: the sync writes.
 */
export async function planRunSelection(
  deps: SelectionDeps,
  selection: RecordSelection,
): Promise<SelectionPlan> {
  const { store, outputs, config } = deps;
  // File times are real time: compared with the system clock, as the run's own sync does.
  await syncWorkload(
    store,
    outputs,
    () => openSource(config),
    sourceFingerprint(config, systemClock.now()),
    () => undefined,
  );
  return planSelection(storedChains(store), selection);
}

/**
 * Narrows the store's connection to the plan and queues its forced records again. The scope comes
 * first and lives only in this connection; the redo marks are stored. A crash after the marks leaves
 * those records queued for the next run, which is what was asked of them, never anything else.
 */
export async function applySelection(store: WorkloadStore, plan: SelectionPlan): Promise<void> {
  await store.scopeTo(scopeOf(plan));
  if (plan.redo.length > 0) await store.markForRedo(plan.redo);
}
