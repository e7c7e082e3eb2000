import type { OutputValidator } from '../../results/index.js';
import type { RecordRequestBuilder } from '../../runner/record-request.js';
import type { StoredRecord, WorkloadStore } from '../../store/store.js';
import { SYNC_LANES, type Lane, type SyncLane } from '../lane.js';
import { keptAnswer } from '../../lifecycle/kept-answer.js';
import { LOCAL_ERROR_CAUSE } from '../../lifecycle/local-failure.js';

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
}

/**
 * The ready records less those with a kept answer (a valid answer a synchronous lane bought and
 * could not settle, see keptAnswer), whose answers are applied instead: put in a batch job, such a
 * record was sent and billed again. A record the apply could not take now (its lane resting, the
 * run stopping) waits for a later round, never goes in a job.
 *
 * Only a synchronous lane keeps an answer, and a record's lane stays that of its last flight until
 * it is sent again: a round of records never sent on a synchronous lane asks the store nothing, and
 * any other round asks once (issue #9: no query per record on the batch build path). A record the
 * store names is built alone and checked as its synchronous retry checks it (the same prompt hash
 * and model, still valid), so a record whose prompt changed since goes in the job.
 */
export async function withoutKeptAnswers(
  deps: KeptAnswerDeps,
  ready: readonly StoredRecord[],
): Promise<readonly StoredRecord[]> {
  const sentSynchronously = ready.filter((record) => isSyncLane(record.lane));
  if (sentSynchronously.length === 0) return ready;
  const named = await deps.store.keptAnswerRecords(
    sentSynchronously.map((record) => record.id),
    LOCAL_ERROR_CAUSE,
  );
  if (named.length === 0) return ready;
  const candidates = new Set(named);
  const byLane = new Map<SyncLane, string[]>();
  for (const record of ready) {
    if (!candidates.has(record.id)) continue;
    const lane = await keptOn(deps, record);
    if (lane === undefined) continue;
    byLane.set(lane, [...(byLane.get(lane) ?? []), record.id]);
  }
  const kept = new Set<string>();
  for (const [lane, ids] of byLane) {
    for (const id of ids) kept.add(id);
    await deps.apply(lane, ids);
  }
  return kept.size === 0 ? ready : ready.filter((record) => !kept.has(record.id));
}

/** The synchronous lane whose kept answer answers the record's request now; undefined when none does. */
async function keptOn(deps: KeptAnswerDeps, record: StoredRecord): Promise<SyncLane | undefined> {
  let promptHash: string;
  try {
    promptHash = (await deps.requests.build(record)).promptHash;
  } catch {
    // Not buildable now: the batch lane's sizing finds out why and fails it or lets it wait.
    return undefined;
  }
  const attempts = await deps.store.listEvents({ recordId: record.id, kind: 'attempt' });
  if (!keptAnswer(attempts, deps.validator, { promptHash, model: deps.model })) return undefined;
  const lane = attempts[attempts.length - 1]?.lane;
  return isSyncLane(lane) ? lane : undefined;
}

function isSyncLane(lane: Lane | null | undefined): lane is SyncLane {
  return (SYNC_LANES as readonly string[]).includes(lane ?? '');
}
