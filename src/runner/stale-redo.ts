import { checkOutputs, STALE_REASONS, type StaleReason, type StalenessDeps } from '../outputs/staleness.js';
import type { InferenceEvent } from '../store/event-log.js';
import type { WorkloadStore } from '../store/store.js';
import { emptyEvent } from '../telemetry/attempt-event.js';
import type { RunnerEventListener } from './events.js';

/** Records queued again per store transaction. */
const GROUP = 500;

export interface StaleRedoDeps extends StalenessDeps {
  store: Pick<WorkloadStore, 'listRecords' | 'markForRedo' | 'appendEvents'>;
  runId: number | null;
  now: () => number;
  emit: RunnerEventListener;
}

/**
 * Queues again exactly the done records whose output is stale (another prompt, model or input),
 * each with a `record`/`redo` event naming why; the others are left alone. Run after the sync, so
 * the records' inputs are current. Their old outputs stay until new ones replace them.
 */
export async function redoStaleOutputs(deps: StaleRedoDeps): Promise<number> {
  const byReason = Object.fromEntries(STALE_REASONS.map((reason) => [reason, 0])) as Record<
    StaleReason,
    number
  >;
  let group: Array<{ recordId: string; reasons: StaleReason[] }> = [];
  let queued = 0;
  const flush = async () => {
    if (group.length === 0) return;
    // The redo mark goes first: a crash before the events only loses their log lines.
    queued += await deps.store.markForRedo(group.map((output) => output.recordId));
    await deps.store.appendEvents(group.map((output) => redoEvent(deps, output.recordId, output.reasons)));
    group = [];
  };
  for await (const output of checkOutputs(deps)) {
    if (output.reasons.length === 0) continue;
    for (const reason of output.reasons) byReason[reason]++;
    group.push(output);
    if (group.length >= GROUP) await flush();
  }
  await flush();
  deps.emit({ type: 'stale-redo', records: queued, byReason });
  return queued;
}

function redoEvent(deps: StaleRedoDeps, recordId: string, reasons: StaleReason[]): InferenceEvent {
  return {
    ...emptyEvent('record', 'redo', deps.now(), deps.runId, 'batch'),
    recordId,
    model: deps.current.model,
    promptName: deps.current.promptName,
    promptVersion: deps.current.promptVersion,
    cause: reasons.join(','),
    message: `The output was made by another ${reasons.map(describe).join(', ')}; it is made again.`,
  };
}

function describe(reason: StaleReason): string {
  switch (reason) {
    case 'prompt':
      return 'prompt version';
    case 'model':
      return 'model';
    case 'input':
      return 'input (the record changed)';
    default:
      return reason satisfies never;
  }
}
