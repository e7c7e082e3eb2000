import type { StoredRecord, WorkloadStore } from '../store/store.js';
import type { RecordContentHasher } from '../workload/content-hash.js';
import type { OutputMeta } from './output-store.js';
import type { OutputSink } from './sink.js';

/** Why an output is stale: made by another prompt (name, version or template), another model, or from other input. */
export const STALE_REASONS = ['prompt', 'model', 'input'] as const;
export type StaleReason = (typeof STALE_REASONS)[number];

/** What outputs are made with now. */
export interface CurrentProvenance {
  promptName: string;
  promptVersion: string;
  /** Hash of the prompt version's template sources. */
  templateHash: string;
  model: string;
}

/** One stale output and why. */
export interface StaleOutput {
  recordId: string;
  reasons: StaleReason[];
}

/** How many outputs are stale, per reason (an output stale for two reasons counts under both). */
export interface StaleOutputCounts {
  /** Outputs checked (records done). */
  checked: number;
  /** Outputs stale for at least one reason. */
  stale: number;
  byReason: Record<StaleReason, number>;
  /** Outputs written before wavebatch recorded the input's hash: their input cannot be compared. */
  inputUnknown: number;
}

/**
 * Why an output made with `meta` is stale now (pure); empty when it is current. `sourceHash` is the
 * record's content hash today; an output that does not record the one it was made from is never
 * called stale for its input (it cannot be told).
 */
export function staleReasons(
  meta: OutputMeta,
  current: CurrentProvenance,
  sourceHash: string | null,
): StaleReason[] {
  const reasons: StaleReason[] = [];
  const prompt = meta.prompt;
  if (
    prompt?.name !== current.promptName ||
    prompt.version !== current.promptVersion ||
    (prompt.template !== undefined && prompt.template !== current.templateHash)
  )
    reasons.push('prompt');
  if (bareModel(meta.model) !== bareModel(current.model)) reasons.push('model');
  if (meta.source?.hash !== undefined && sourceHash !== null && meta.source.hash !== sourceHash)
    reasons.push('input');
  return reasons;
}

export interface StalenessDeps {
  store: Pick<WorkloadStore, 'listRecords'>;
  outputs: Pick<OutputSink, 'read'>;
  hasher: RecordContentHasher;
  current: CurrentProvenance;
}

/** Records read from the store per page while checking. */
const PAGE = 500;

/**
 * Checks every done record's output against what outputs are made with now, page by page (never the
 * whole workload in memory); yields each output and why it is stale (no reasons: current). A media
 * file that is gone counts as changed input.
 */
export async function* checkOutputs(
  deps: StalenessDeps,
): AsyncGenerator<StaleOutput & { inputKnown: boolean }> {
  let afterId: string | undefined;
  for (;;) {
    const page = await deps.store.listRecords({
      status: 'done',
      limit: PAGE,
      ...(afterId === undefined ? {} : { afterId }),
    });
    for (const record of page) {
      const document = await deps.outputs.read(record.id, record.output ?? null);
      if (!document) continue;
      const known = document.meta.source?.hash !== undefined;
      const hash = known ? await currentHash(deps.hasher, record) : null;
      yield {
        recordId: record.id,
        reasons: staleReasons(document.meta, deps.current, hash),
        inputKnown: known,
      };
    }
    if (page.length < PAGE) return;
    afterId = page[page.length - 1]?.id;
  }
}

/** How many outputs are stale and why. */
export async function countStaleOutputs(deps: StalenessDeps): Promise<StaleOutputCounts> {
  const counts: StaleOutputCounts = {
    checked: 0,
    stale: 0,
    byReason: { prompt: 0, model: 0, input: 0 },
    inputUnknown: 0,
  };
  for await (const output of checkOutputs(deps)) {
    counts.checked++;
    if (!output.inputKnown) counts.inputUnknown++;
    if (output.reasons.length > 0) counts.stale++;
    for (const reason of output.reasons) counts.byReason[reason]++;
  }
  return counts;
}

/** The record's content hash today; a media file that cannot be read gives a hash no output has. */
async function currentHash(hasher: RecordContentHasher, record: StoredRecord): Promise<string> {
  try {
    return await hasher.hash(record);
  } catch {
    return 'unreadable';
  }
}

function bareModel(model: string | undefined): string {
  return (model ?? '').replace(/^models\//, '');
}
