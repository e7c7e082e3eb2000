import { randomBytes } from 'node:crypto';
import { GeminiApiError } from '../../gemini/index.js';
import { MediaUploadError } from '../../media/index.js';
import { jobDisplayName } from '../../planner/job-name.js';
import { packJobs, type PackCandidate } from '../../planner/packer.js';
import { ACTIVE_JOB_STATES, type StoredRecord } from '../../store/store.js';
import { rejectionEvent } from '../../telemetry/attempt-event.js';
import { createRemoteJob, type JobCreationDeps } from './job-creation.js';
import { formGroups, groupKey } from './request-groups.js';
import { withoutKeptAnswers, type KeptAnswerDeps } from './kept-answers.js';
import {
  estimatedAudioTokens,
  MissingContextError,
  RecordRequestError,
  regenerateContext,
} from '../../runner/record-request.js';

/** What a submission round needs: job creation's needs plus the prefix of this store's job names. */
export interface SubmissionDeps extends JobCreationDeps {
  /** `wb-<workload>-<store id>-`: every job name of this store starts with it. */
  jobPrefix: string;
  /**
   * Where records with a kept answer go instead of a job (see withoutKeptAnswers); without it every
   * ready record is packed.
   */
  keptAnswers?: Pick<KeptAnswerDeps, 'validator' | 'apply' | 'applyBatch'>;
}

/** Outcome of one submission round. */
export interface SubmissionRound {
  submitted: number;
  /** Set when the server said a quota is exhausted; the runner waits before trying again. */
  quotaRetryDelayMs: number | null;
  /** Intents whose create failed for a passing reason; the reconciler retries them after a backoff. */
  deferred: Array<{ jobId: string; error: unknown }>;
  /** Records of an open last job left ready for the next chunk (see submitRound): they lead its list. */
  leftForNextChunk?: string[];
}

/**
 * Jobs' worth of ready records read, sized and packed at a time: at most ROUND_CHUNK_JOBS jobs'
 * worth, ROUND_CHUNK_MAX_RECORDS records and ROUND_CHUNK_BYTES of request lines (at the mean the
 * builder has seen), never less than one full job. A round with room for a hundred jobs of 5,000
 * used to read and size half a million records at once: a flat (unchained) workload of 300,000
 * records peaked at 1 GB of RSS. Chunks keep a round's memory to what its next jobs need: a chunk's
 * records, their built requests (kept to be written) and their prompts (until flushed) are most of
 * the heap, so 50,000 records a chunk peaked at 598 MB on a flat 100,000 and 20,000 at 466 MB, at
 * the same speed; at a million records in chains, RSS through the rounds was 505-515 MB at 20,000
 * and 495-501 MB at 15,000. A count alone let long texts grow it: pages of 2 kB (requests of
 * 2.3 kB) peaked at 586-627 MB on 200,000 records in chains (chunks of 15,000), 481 MB with the
 * byte bound (5,000, one job), at the same speed. Until a request is built (the mean unknown) a
 * chunk is one job's worth.
 */
const ROUND_CHUNK_JOBS = 10;
const ROUND_CHUNK_MAX_RECORDS = 15_000;
export const ROUND_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Ready records a round takes at a time for jobs of `perJob` records, when a record's request line
 * is `meanRecordBytes` on average (0: not known yet). See ROUND_CHUNK_BYTES.
 */
export function roundChunkRecords(perJob: number, meanRecordBytes: number): number {
  if (meanRecordBytes <= 0) return perJob;
  const byBytes = Math.floor(ROUND_CHUNK_BYTES / meanRecordBytes);
  return Math.max(perJob, Math.min(perJob * ROUND_CHUNK_JOBS, ROUND_CHUNK_MAX_RECORDS, byBytes));
}

/**
 * Packs ready records into new jobs within the free capacity and creates them, a chunk of jobs at a
 * time until the room or the ready records run out. Each job's intent (its deterministic name and
 * records) is stored before any remote call, so a crash mid-way is recovered by adopting or
 * re-creating exactly that job. `records` (the scheduler's choice) are packed as given, in one go;
 * `moreReady`: they are a full chunk of the ready records, so more may follow (see submitRound).
 */
export async function submitReadyRecords(
  deps: SubmissionDeps,
  records?: readonly StoredRecord[],
  moreReady = false,
): Promise<SubmissionRound> {
  if (records) return (await inRound(deps, () => submitRound(deps, records, moreReady))).round;
  const perJob = deps.settings.maxRequestsPerJob * deps.requests.recordsPerRequest;
  const total: SubmissionRound = { submitted: 0, quotaRetryDelayMs: null, deferred: [] };
  for (;;) {
    const chunk = roundChunkRecords(perJob, deps.requests.meanRecordBytes);
    const { round, listed } = await inRound(deps, () => submitRound(deps, undefined, false, chunk));
    addChunk(total, round);
    if (endsRound(round, listed, chunk)) return total;
  }
}

/** Adds what one chunk of a round did to the round's total. */
export function addChunk(total: SubmissionRound, chunk: SubmissionRound): void {
  total.submitted += chunk.submitted;
  total.deferred.push(...chunk.deferred);
  total.quotaRetryDelayMs = chunk.quotaRetryDelayMs;
}

/**
 * Whether a chunk that listed `listed` of the `asked` ready records is its round's last: a short
 * chunk was the last of the ready records, and one that made no job (no room, no budget, nothing
 * buildable now, a quota reached) would list the same records and make nothing again.
 */
export function endsRound(chunk: SubmissionRound, listed: number, asked: number): boolean {
  return chunk.quotaRetryDelayMs !== null || chunk.submitted === 0 || listed < asked;
}

/** Each ready request is built twice (sized, then written): the round reads each context once. */
async function inRound<T>(deps: SubmissionDeps, work: () => Promise<T>): Promise<T> {
  deps.requests.beginRound();
  try {
    return await work();
  } finally {
    deps.requests.endRound();
  }
}

/**
 * `records`: the ready records the scheduler gave this lane (`moreReady`: more may be ready behind
 * them); when absent, up to `limit` of the ready ones, longest chain first. Returns the round and
 * how many ready records it read.
 */
async function submitRound(
  deps: SubmissionDeps,
  records: readonly StoredRecord[] | undefined,
  moreReady: boolean,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ round: SubmissionRound; listed: number }> {
  const { store, settings } = deps;
  const round: SubmissionRound = { submitted: 0, quotaRetryDelayMs: null, deferred: [] };
  const active = await store.listJobs(ACTIVE_JOB_STATES);
  const freeJobSlots = settings.maxConcurrentJobs - active.length;
  const enqueued = active.reduce((sum, job) => sum + job.estimatedTokens, 0);
  const budget = deps.tokenBudget?.current(deps.clock.now()) ?? settings.enqueuedTokenBudget;
  const budgetFree = budget - enqueued;
  if (freeJobSlots <= 0 || (budgetFree <= 0 && active.length > 0)) return { round, listed: 0 };

  const perRequest = deps.requests.recordsPerRequest;
  const listedReady =
    records ??
    (await store.listReady(Math.min(limit, freeJobSlots * settings.maxRequestsPerJob * perRequest)));
  const listed = listedReady.length;
  await deps.requests.prefetchContexts(listedReady);
  const ready = deps.keptAnswers
    ? await withoutKeptAnswers(
        { ...deps.keptAnswers, store, requests: deps.requests, model: settings.model },
        listedReady,
      )
    : listedReady;
  const sizing: Sizing = { byId: new Map(), candidates: [], hashes: new Map() };
  // First pass sizes each request and keeps only the numbers; the bodies are rebuilt while writing,
  // so a round never holds a job's worth of inline images in memory.
  if (perRequest <= 1) for (const record of ready) await sizeRecord(deps, sizing, record);
  else for (const group of groupsOf(deps, ready, perRequest)) await sizeGroup(deps, sizing, group);
  const { byId, candidates, hashes } = sizing;

  // The records of split jobs first (they waited longest), each cancelled job's together.
  // (A round with no split records keeps its order without sorting: the common case, and a hot path.)
  if (candidates.some((candidate) => candidate.split))
    candidates.sort((a, b) => splitOrder(a).localeCompare(splitOrder(b)));
  // With nothing enqueued the first request always goes (alone if need be): a learnt budget below
  // one request would otherwise stop the run, nothing ever freeing room for it.
  const freeTokens =
    active.length === 0
      ? Math.max(budgetFree, candidates.find(fitsAJob(settings))?.estimatedTokens ?? 0)
      : budgetFree;
  const { jobs, oversized, lastJobOpen } = packJobs(candidates, {
    freeJobSlots,
    maxRequestsPerJob: settings.maxRequestsPerJob,
    maxJobBytes: settings.maxJobBytes,
    freeTokens,
    tokenBudget: settings.enqueuedTokenBudget,
    inlineMaxBytes: settings.inlineMaxBytes,
  });
  // A chunk that got all the records it asked for may have more ready behind it: its last job, still
  // open, would go out part-empty once per chunk (when bytes, not the request count, fill jobs, or
  // the chunk is not a whole number of jobs). Its records stay ready and lead the next chunk's list.
  // Only behind another job, so each chunk makes progress.
  if ((records ? moreReady : listed === limit) && lastJobOpen && jobs.length > 1)
    round.leftForNextChunk = jobs
      .pop()
      ?.members.flatMap((candidate) => candidate.group ?? [candidate.recordId]);
  for (const candidate of oversized) {
    const record = byId.get(candidate.recordId);
    if (!record) continue;
    await failOversized(deps, record, candidate);
  }

  // The prompts are in the inference log before any job refers to them.
  if (jobs.length > 0) await deps.requests.flushPrompts();
  for (const job of jobs) {
    const members = job.members.flatMap((candidate, request) => {
      const ids = candidate.group ?? [candidate.recordId];
      // A grouped request's estimate is shared by its records, so the job's total stays its sum.
      const share = Math.floor(candidate.estimatedTokens / ids.length);
      const rest = candidate.estimatedTokens - share * ids.length;
      return ids.map((recordId, index) => ({
        recordId,
        attempt: byId.get(recordId)?.attempts ?? 0,
        promptHash: hashes.get(recordId)?.promptHash ?? '',
        contextDigest: hashes.get(recordId)?.contextDigest ?? null,
        sourceHash: hashes.get(recordId)?.sourceHash ?? null,
        estimatedTokens: share + (index < rest ? 1 : 0),
        audioTokens: (candidate.audioTokens ?? 0) / ids.length,
        // Kept so that max_cost prices the job request by request, as the API bills it.
        request,
      }));
    });
    const id = jobDisplayName(deps.jobPrefix, members, (deps.nonce ?? defaultNonce)());
    await store.createJobIntent({
      id,
      model: settings.model,
      kind: job.kind,
      members,
      requests: job.members.length,
    });
    deps.splits?.packed(members.map((member) => member.recordId));
    const intent = await store.getJob(id);
    if (!intent) continue;
    const outcome = await createRemoteJob(deps, intent, byId);
    switch (outcome.kind) {
      case 'created':
      case 'adopted':
        round.submitted++;
        break;
      case 'quota':
        round.quotaRetryDelayMs = outcome.retryDelayMs;
        return { round, listed };
      case 'deferred':
        round.deferred.push({ jobId: id, error: outcome.error });
        break;
      case 'failed':
      case 'abandoned':
      case 'split':
        break;
      default:
        outcome satisfies never;
    }
  }
  return { round, listed };
}

/** Whether a candidate can ever go in a job (not alone over the configured budget or the byte cap). */
function fitsAJob(settings: SubmissionDeps['settings']): (candidate: PackCandidate) => boolean {
  return (candidate) =>
    candidate.estimatedTokens <= settings.enqueuedTokenBudget && candidate.bytes <= settings.maxJobBytes;
}

/** What the sizing pass learnt: the candidates to pack, and each sized record with its hashes. */
interface Sizing {
  byId: Map<string, StoredRecord>;
  candidates: PackCandidate[];
  hashes: Map<string, { promptHash: string; contextDigest: string | null; sourceHash: string | null }>;
}

/** Sizes one record's request; a record that cannot be built now waits, is failed, or has its context regenerated. */
async function sizeRecord(deps: SubmissionDeps, sizing: Sizing, record: StoredRecord): Promise<void> {
  try {
    const built = await deps.requests.build(record);
    sizing.byId.set(record.id, record);
    sizing.hashes.set(record.id, {
      promptHash: built.promptHash,
      contextDigest: built.contextDigest,
      sourceHash: built.sourceHash,
    });
    const split = deps.splits?.of(record.id);
    sizing.candidates.push({
      recordId: record.id,
      estimatedTokens: built.estimatedTokens,
      audioTokens: estimatedAudioTokens(built),
      bytes: built.bytes,
      ...(split ? { split } : {}),
    });
  } catch (error) {
    if (waitsForNextRound(error)) {
      // A media upload hit a network blip or a quota: the record waits for the next round.
      deps.emit({ type: 'warning', message: `Skipping ${record.id} this round: ${error.message}` });
      return;
    }
    if (error instanceof MissingContextError) {
      await regenerateContext(deps, error);
      return;
    }
    if (!(error instanceof RecordRequestError)) throw error;
    await failUnbuildable(deps, record, error);
  }
}

/**
 * Sizes a grouped request. When the group cannot be built (one record's template, context or media
 * is at fault) or could never fit a job, its records are sized alone, so only the one at fault is
 * failed or waits.
 */
async function sizeGroup(deps: SubmissionDeps, sizing: Sizing, group: StoredRecord[]): Promise<void> {
  const first = group[0];
  if (!first) return;
  if (group.length === 1) return sizeRecord(deps, sizing, first);
  let built;
  try {
    built = await deps.requests.buildGroup(group, groupKey(group.map((_, index) => index)));
  } catch (error) {
    if (waitsForNextRound(error)) {
      deps.emit({
        type: 'warning',
        message: `Skipping ${group.map((record) => record.id).join(', ')} this round: ${error.message}`,
      });
      return;
    }
    if (!(error instanceof RecordRequestError)) throw error;
    for (const record of group) await sizeRecord(deps, sizing, record);
    return;
  }
  const { settings } = deps;
  if (built.estimatedTokens > settings.enqueuedTokenBudget || built.bytes > settings.maxJobBytes) {
    for (const record of group) await sizeRecord(deps, sizing, record);
    return;
  }
  for (const [index, record] of group.entries()) {
    const member = built.members[index];
    sizing.byId.set(record.id, record);
    sizing.hashes.set(record.id, {
      promptHash: built.promptHash,
      contextDigest: member?.contextDigest ?? null,
      sourceHash: member?.sourceHash ?? null,
    });
  }
  const split = deps.splits?.of(first.id);
  sizing.candidates.push({
    recordId: first.id,
    group: group.map((record) => record.id),
    estimatedTokens: built.estimatedTokens,
    audioTokens: estimatedAudioTokens(built),
    bytes: built.bytes,
    ...(split ? { split } : {}),
  });
}

/**
 * The grouped requests of `ready`: the records of a split job only with records of the same job, and
 * no more to a request than its plan allows (a group refused as too large goes again in halves).
 */
function groupsOf(
  deps: SubmissionDeps,
  ready: readonly StoredRecord[],
  perRequest: number,
): StoredRecord[][] {
  const free: StoredRecord[] = [];
  const split = new Map<string, { size: number; records: StoredRecord[] }>();
  for (const record of ready) {
    const plan = deps.splits?.of(record.id);
    if (!plan) {
      free.push(record);
      continue;
    }
    const size = plan.perRequest ?? perRequest;
    const key = `${plan.group} ${size}`;
    const planned = split.get(key) ?? { size, records: [] };
    planned.records.push(record);
    split.set(key, planned);
  }
  if (split.size === 0) return formGroups(ready, perRequest);
  const groups = [...split.values()].flatMap(({ size, records }) => formGroups(records, size));
  return [...groups, ...formGroups(free, perRequest)];
}

/** A media upload that failed for a passing reason: not the record's fault. */
function waitsForNextRound(error: unknown): error is Error {
  return (GeminiApiError.isInstance(error) && error.retryable) || error instanceof MediaUploadError;
}

async function failUnbuildable(
  deps: SubmissionDeps,
  record: StoredRecord,
  error: RecordRequestError,
): Promise<void> {
  await markForFailure(deps, record, error.failureCause, error.message, error);
}

async function failOversized(
  deps: SubmissionDeps,
  record: StoredRecord,
  candidate: PackCandidate,
): Promise<void> {
  const message =
    `Request for ${record.id} is too large to ever fit a job (~${candidate.estimatedTokens} tokens, ${candidate.bytes} bytes; ` +
    `limits: enqueued tokens ${deps.settings.enqueuedTokenBudget} (execution.enqueued_token_budget, at most the usage tier's batch_enqueued_tokens), ` +
    `max_job_bytes ${deps.settings.maxJobBytes}). Raise the limits or shrink its inputs.`;
  await markForFailure(deps, record, 'too_large', message);
}

/** Dead-letters a record that cannot be sent at all; retrying would not change anything. */
async function markForFailure(
  deps: SubmissionDeps,
  record: StoredRecord,
  cause: string,
  message: string,
  error?: unknown,
): Promise<void> {
  const { settings } = deps;
  const event = rejectionEvent(
    {
      runId: deps.runId ?? null,
      lane: 'batch',
      model: settings.model,
      record,
      prompt: settings.prompt,
      attempt: record.attempts,
      cause,
      message,
      error,
    },
    deps.clock.now(),
  );
  const outcome = await deps.store.failRecord(
    {
      recordId: record.id,
      jobId: null,
      attempt: record.attempts,
      cause,
      message,
      raw: null,
      promptName: settings.prompt.name,
      promptVersion: settings.prompt.version,
      promptHash: null,
      event,
    },
    settings.maxRetries,
    false,
  );
  deps.emit({ type: 'record-failed', recordId: record.id, jobId: null, cause, message, outcome });
}

function defaultNonce(): string {
  return randomBytes(6).toString('hex');
}

/** Sort key putting split records first, grouped by their cancelled job; the others keep their order. */
function splitOrder(candidate: PackCandidate): string {
  return candidate.split ? `0${candidate.split.group}` : '1';
}
