import { keptAnswer } from '../../lifecycle/kept-answer.js';
import { LOCAL_ERROR_CAUSE } from '../../lifecycle/local-failure.js';
import type { OutputValidator } from '../../results/index.js';
import type { RecordRequestBuilder } from '../../runner/record-request.js';
import type { StoredRecord, WorkloadStore } from '../../store/store.js';
import { SYNC_LANES, type Lane, type SyncLane } from '../lane.js';
import type { KeptBatchAnswer } from './kept-batch-answer.js';

/** What taking the records with a kept answer out of a batch round needs. */
export interface KeptAnswerDeps {
  store: Pick<WorkloadStore, 'keptAnswerRecords' | 'listEvents'>;
  requests: Pick<RecordRequestBuilder, 'build'>;
  validator: OutputValidator;
  model: string;
  /**
   * Applies the kept answers of these ready records, claimed on `lane` (the synchronous lane that
   * bought them), as that lane's retry would (see SyncLaneDriver.send): nothing is sent.
   */
  apply: (lane: SyncLane, recordIds: readonly string[]) => Promise<unknown>;
  /** Applies the kept answers batch jobs bought (see applyKeptBatchAnswers): nothing is sent. */
  applyBatch: (answers: readonly KeptBatchAnswer[]) => Promise<unknown>;
}

/**
 * The ready records less those with a kept answer (a valid answer a synchronous lane or a batch job
 * bought and could not settle, see keptAnswer), whose answers are applied instead: put in a batch
 * job, such a record was sent and billed again. A synchronous lane's answer is applied by that lane
 * (claimed on it); a batch job's by the record lifecycle, the record settled from ready. A record the
 * apply could not take now (its lane resting, the run stopping, its output still not writable)
 * waits for a later round, never goes in a job.
 *
 * A record's lane stays that of its last flight until it is sent again: a round of records never
 * sent asks the store nothing, and any other round asks once (issue #9: no query per record on the
 * batch build path). A record the store names is built alone and checked as its synchronous retry
 * checks it (the same prompt hash and model, still valid), so a record whose prompt changed since
 * goes in the job.
 */
export async function withoutKeptAnswers(
  deps: KeptAnswerDeps,
  ready: readonly StoredRecord[],
): Promise<readonly StoredRecord[]> {
  const sentBefore = ready.filter((record) => (record.lane ?? null) !== null);
  if (sentBefore.length === 0) return ready;
  const named = await deps.store.keptAnswerRecords(
    sentBefore.map((record) => record.id),
    LOCAL_ERROR_CAUSE,
  );
  if (named.length === 0) return ready;
  const candidates = new Set(named);
  const bySyncLane = new Map<SyncLane, string[]>();
  const fromBatch: KeptBatchAnswer[] = [];
  const kept = new Set<string>();
  for (const record of ready) {
    if (!candidates.has(record.id)) continue;
    const found = await keptFor(deps, record);
    if (found === undefined) continue;
    kept.add(record.id);
    if (found.lane === 'batch') fromBatch.push(found.answer);
    else bySyncLane.set(found.lane, [...(bySyncLane.get(found.lane) ?? []), record.id]);
  }
  for (const [lane, ids] of bySyncLane) await deps.apply(lane, ids);
  await deps.applyBatch(fromBatch);
  return kept.size === 0 ? ready : ready.filter((record) => !kept.has(record.id));
}

type Found = { lane: SyncLane } | { lane: 'batch'; answer: KeptBatchAnswer };

/** The lane whose kept answer answers the record's request now, and the answer; undefined when none does. */
async function keptFor(deps: KeptAnswerDeps, record: StoredRecord): Promise<Found | undefined> {
  let request;
  try {
    request = await deps.requests.build(record);
  } catch {
    // Not buildable now: the batch lane's sizing finds out why and fails it or lets it wait.
    return undefined;
  }
  const attempts = await deps.store.listEvents({ recordId: record.id, kind: 'attempt' });
  const answer = keptAnswer(attempts, deps.validator, { promptHash: request.promptHash, model: deps.model });
  const bought = attempts[attempts.length - 1];
  if (!answer || !bought) return undefined;
  if (isSyncLane(bought.lane)) return { lane: bought.lane };
  const jobId = bought.jobId;
  // Otherwise a batch job bought it: applied naming that job (an event without one is not applied).
  if (!jobId) return undefined;
  return { lane: 'batch', answer: { record, request, answer, bought: { ...bought, jobId } } };
}

function isSyncLane(lane: Lane | null | undefined): lane is SyncLane {
  return (SYNC_LANES as readonly string[]).includes(lane ?? '');
}
