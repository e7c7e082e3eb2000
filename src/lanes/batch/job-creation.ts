import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunnerClock } from '../../clock.js';
import {
  GeminiApiError,
  isEnqueuedTokenRefusal,
  payloadLimitOf,
  toInlinedRequest,
  type BatchSource,
  type ModelRequest,
} from '../../gemini/index.js';
import { MediaUploadError } from '../../media/index.js';
import { serverRetryWaitMs } from '../../retry.js';
import type { EnqueuedTokenBudget } from '../../planner/enqueued-token-budget.js';
import {
  ACTIVE_JOB_STATES,
  type FailureInput,
  type JobMember,
  type JobRow,
  type StoredRecord,
  type WorkloadStore,
} from '../../store/store.js';
import { rejectionEvent } from '../../telemetry/attempt-event.js';
import type { BatchApi } from './batch-api.js';
import { createOrAdopt } from './create-or-adopt.js';
import { uploadJobInput, type UploadedJobInput } from './job-input.js';
import { formGroups, groupKey } from './request-groups.js';
import { endsTheRun } from '../../gemini/configuration-errors.js';
import type { RunnerEventListener } from '../../runner/events.js';
import { RecordRequestError, type RecordRequestBuilder } from '../../runner/record-request.js';
import type { RunnerSettings } from '../../runner/settings.js';
import { makeFolder } from '../../make-folder.js';
import type { SplitPlan } from './split-plan.js';

/** What creating jobs needs. */
export interface JobCreationDeps {
  store: WorkloadStore;
  api: BatchApi;
  requests: RecordRequestBuilder;
  settings: RunnerSettings;
  emit: RunnerEventListener;
  /** Paces the retries of a create whose outcome is unknown. */
  clock: RunnerClock;
  /** Uniform in [0, 1) for backoff jitter; default Math.random. */
  random?: () => number;
  /** Draws the nonce that makes each job intent's name unique; injectable for tests. */
  nonce?: () => string;
  /** Epoch ms on the store's clock (it stamps when a job's input file was recorded); default clock.now. */
  now?: () => number;
  /** The run that rejected records are logged under. */
  runId?: number | null;
  /**
   * The budget jobs are packed to, learnt from the API's enqueued-token refusals over the run (every
   * create that meets one shrinks it, a round's or the reconciler's); without it, the configured one.
   */
  tokenBudget?: EnqueuedTokenBudget;
  /**
   * Records to pack again in smaller jobs: those of stalled jobs split, and of jobs the API refused
   * as too large (413). Without it a too-large job is refused like any other.
   */
  splits?: SplitPlan;
}

/**
 * An uploaded JSONL input is reused only this soon after its upload. Its media were picked to outlive
 * the uploader's safety margin when it was written; an older JSONL may point at media that expire
 * (or have expired) before the job ends, so it is rebuilt, which refreshes them through the uploader.
 */
export const INPUT_REUSE_MAX_AGE_MS = 3600_000;

/** How an attempt to create an intent's remote job ended. */
export type CreationOutcome =
  /** The remote job exists (created now, or found by name and adopted); the job is pending. */
  | { kind: 'created' | 'adopted'; remoteName: string }
  /**
   * A quota refused it: nothing was created, the intent is dropped and its records are ready again.
   * `enqueuedTokens`: the refusal named the enqueued-token quota (the budget packed to was too large).
   */
  | { kind: 'quota'; retryDelayMs: number | null; enqueuedTokens: boolean }
  /** The API refused the job itself (a 4xx): each record counted a failed attempt; the intent is gone. */
  | { kind: 'failed' }
  /** A record could not be built now (e.g. its context output is gone): the intent is dropped. */
  | { kind: 'abandoned' }
  /**
   * The API refused the job as too large for one call (413): the intent is dropped and its records
   * go again as an uploaded file or in smaller jobs (the splits plan); no attempt is counted.
   */
  | { kind: 'split' }
  /** Still failing for a passing reason after the call's retries: the intent stays, to be retried. */
  | { kind: 'deferred'; error: unknown };

/**
 * Creates the remote batch job for a stored intent: writes and uploads its JSONL (or sends it
 * inline), then creates it under the intent's name, adopting a job of that name if an earlier
 * attempt with an unknown outcome did create one. Never throws for an API error except a refused
 * key (PERMISSION_DENIED), which no other job could get past either.
 *
 * `claimed`: the records of the round that just claimed this job's members, by id, as the round read
 * them (only the members are looked up; the intent was created only if every member was ready, so
 * none is missing). Without it they are read from the store: an intent a crash left, created again
 * by the reconciler.
 */
export async function createRemoteJob(
  deps: JobCreationDeps,
  job: JobRow,
  claimed?: ReadonlyMap<string, StoredRecord>,
): Promise<CreationOutcome> {
  const { store } = deps;
  let prepared: { source: BatchSource; inputFile: string | null };
  const size = { bytes: 0 };
  try {
    prepared = await jobSource(deps, job, claimed, size);
  } catch (error) {
    if (GeminiApiError.isInstance(error) && isTooLarge(error))
      return tooLargeJob(deps, job, error, size.bytes);
    if (error instanceof RecordRequestError) {
      // The records go back to ready; the next round sizes them again and deals with the cause.
      await store.abandonJobIntent(job.id);
      deps.emit({ type: 'warning', message: `Job ${job.id} not sent: ${error.message}` });
      return { kind: 'abandoned' };
    }
    return failedBeforeCreate(deps, job, error);
  }

  const { settings, clock, random } = deps;
  const attempt = await createOrAdopt(
    deps.api,
    { model: settings.model, displayName: job.id, source: prepared.source },
    { displayName: job.id },
    { policy: settings.retryPolicy, clock, ...(random ? { random } : {}) },
  );
  if ('remote' in attempt) {
    await store.markJobSubmitted(job.id, attempt.remote.name, prepared.inputFile);
    if (attempt.adopted) deps.emit({ type: 'job-adopted', jobId: job.id, remoteName: attempt.remote.name });
    else
      deps.emit({
        type: 'job-submitted',
        jobId: job.id,
        remoteName: attempt.remote.name,
        kind: job.kind,
        model: job.model,
        requests: job.requestCount,
        records: job.recordCount,
        estimatedTokens: job.estimatedTokens,
      });
    return { kind: attempt.adopted ? 'adopted' : 'created', remoteName: attempt.remote.name };
  }
  const { error, ambiguous } = attempt;
  if (!GeminiApiError.isInstance(error)) throw error;
  if (isTooLarge(error)) return tooLargeJob(deps, job, error, size.bytes);
  if (ambiguous || error.retryable) {
    if (error.code === 'QUOTA_EXHAUSTED' && !ambiguous) return quotaRefused(deps, job, error);
    // Unknown outcome (network, 5xx): the job may exist remotely. The intent stays; the reconciler
    // adopts the remote job by name or creates it after a backoff.
    // The error names the call that failed: the create, or the look-up by name that precedes a retry
    // after an unknown outcome ("Listing batches"), so the warning does not name a call of its own.
    deps.emit({
      type: 'warning',
      message: `Job ${job.id} is not created yet (will retry): ${error.message}`,
    });
    return { kind: 'deferred', error };
  }
  return refusedJob(deps, job, error);
}

/**
 * Where the job's requests come from: its uploaded (or reused) JSONL, or inline requests. `size`
 * learns the bytes they take (the file's, or the inline requests' JSON) before they are sent.
 */
async function jobSource(
  deps: JobCreationDeps,
  job: JobRow,
  claimed: ReadonlyMap<string, StoredRecord> | undefined,
  size: { bytes: number },
): Promise<{ source: BatchSource; inputFile: string | null }> {
  // In the store's order: a group's key names its records by their positions in it.
  const members = await deps.store.jobMembers(job.id);
  // One query for the job's records, not one per member (none when the round has them at hand).
  const records = async () =>
    claimed ?? new Map((await deps.store.listRecords({ jobId: job.id })).map((r) => [r.id, r]));
  if (job.kind === 'file') {
    let inputFile = await reusableInputFile(deps, job, size);
    if (!inputFile) {
      const dir = join(deps.settings.dataDir, 'inputs');
      await makeFolder(dir);
      const lines = requestLines(jobRequests(deps, members, await records()));
      inputFile = await uploadInput(deps, job.id, (name) =>
        uploadJobInput(
          deps.api,
          join(dir, `${job.id}.jsonl`),
          lines,
          job.id,
          (bytes) => {
            size.bytes = bytes;
          },
          name,
        ),
      );
    }
    return { source: { fileName: inputFile }, inputFile };
  }
  const requests = [];
  for await (const built of jobRequests(deps, members, await records()))
    requests.push(toInlinedRequest(built.key, built.request));
  size.bytes = Buffer.byteLength(JSON.stringify(requests), 'utf8');
  return { source: { requests }, inputFile: null };
}

/**
 * The job's requests, in member order: one per record, or, with records_per_request above 1, one per
 * group of the members (each keyed by its members' positions, see request-groups.ts). Members no
 * longer in flight are left out.
 */
async function* jobRequests(
  deps: JobCreationDeps,
  members: readonly JobMember[],
  records: ReadonlyMap<string, StoredRecord>,
): AsyncGenerator<{ key: string; request: ModelRequest; line: string }> {
  if (deps.requests.recordsPerRequest <= 1) {
    for (const { recordId } of members) {
      const record = records.get(recordId);
      if (!record) continue;
      const built = await deps.requests.build(record);
      yield { key: record.id, request: built.request, line: built.line };
    }
    return;
  }
  const entries = members.flatMap((member, position) => {
    const record = records.get(member.recordId);
    return record ? [{ record, position, attempts: member.attempt }] : [];
  });
  for (const group of formGroups(entries, deps.requests.recordsPerRequest)) {
    const key = groupKey(group.map((entry) => entry.position));
    const built = await deps.requests.buildGroup(
      group.map((entry) => entry.record),
      key,
    );
    yield { key, request: built.request, line: built.line };
  }
}

async function failedBeforeCreate(
  deps: JobCreationDeps,
  job: JobRow,
  error: unknown,
): Promise<CreationOutcome> {
  const transientMedia = error instanceof MediaUploadError;
  if (!GeminiApiError.isInstance(error) && !transientMedia) throw error;
  if (transientMedia || (GeminiApiError.isInstance(error) && error.retryable)) {
    // Nothing was created yet (the upload failed): keep the intent and its uploaded input, if any.
    deps.emit({ type: 'warning', message: `Preparing job ${job.id} failed (${error.message}); will retry.` });
    return { kind: 'deferred', error };
  }
  return refusedJob(deps, job, error);
}

async function quotaRefused(
  deps: JobCreationDeps,
  job: JobRow,
  error: GeminiApiError,
): Promise<CreationOutcome> {
  // The server refused: nothing was created, so the records go back to the queue.
  await deps.store.abandonJobIntent(job.id);
  const retryDelayMs = serverRetryWaitMs(error) ?? null;
  deps.emit({ type: 'quota-wait', reason: error.message, retryDelayMs });
  const enqueuedTokens = isEnqueuedTokenRefusal(error);
  if (enqueuedTokens) await learnBudget(deps, job.estimatedTokens);
  return { kind: 'quota', retryDelayMs, enqueuedTokens };
}

/**
 * A create was refused for enqueued tokens though the job fitted the budget by estimate: the
 * estimates undercount, so the budget shrinks for the rest of the run (enqueued-token-budget.ts),
 * to what the jobs still active (the API admitted them) and the refused one show. Said once, the
 * first time; later shrinks only move the number. Whoever made the create (a round, or the
 * reconciler creating a stored intent again) learns the same.
 */
async function learnBudget(deps: JobCreationDeps, refusedJob: number): Promise<void> {
  if (!deps.tokenBudget) return;
  const active = await deps.store.listJobs(ACTIVE_JOB_STATES);
  const enqueued = active.reduce((sum, job) => sum + job.estimatedTokens, 0);
  const shrink = deps.tokenBudget.refused(enqueued, refusedJob, deps.clock.now());
  if (!shrink.first) return;
  deps.emit({
    type: 'warning',
    message:
      `The API refused a job of ~${refusedJob} estimated tokens for enqueued tokens with ~${enqueued} enqueued, ` +
      `within the budget of ${shrink.from} (execution.enqueued_token_budget, at most the usage tier's batch_enqueued_tokens): ` +
      `the token estimates undercount. Jobs are packed to ${shrink.to} estimated tokens for the rest of the run, ` +
      'growing back by a tenth of the budget every 10 minutes without another such refusal.',
  });
}

/**
 * The API refused this job (400, 404 …): a retry of the same job would be refused again, so each of its
 * records counts a failed attempt (and is dead-lettered with the API's message once out of retries);
 * the run goes on with the others. A refused key ends the run: every other job would meet it too.
 */
async function refusedJob(
  deps: JobCreationDeps,
  job: JobRow,
  error: GeminiApiError,
): Promise<CreationOutcome> {
  if (endsTheRun(error)) throw error;
  const message = `The API refused job ${job.id}: ${error.message}`;
  await failIntent(deps, job, error, { cause: 'api_error', message, maxRetries: deps.settings.maxRetries });
  return { kind: 'failed' };
}

/** `n requests`, or `1 request`. */
function countOfRequests(count: number): string {
  return `${count} request${count === 1 ? '' : 's'}`;
}

/** Whether the API refused the call as too large for one call (413). */
function isTooLarge(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && error.code === 'PAYLOAD_TOO_LARGE';
}

/**
 * The API refused the job as too large for one call (413, on the create of inline requests or on the
 * upload of its JSONL): the same job would be refused at every try, smaller ones need not be. An
 * inline job's records go again as an uploaded file (a file is not held to a create's 20 MB); a file
 * job's, in uploaded files of half as many requests; a single grouped request's records, in groups of
 * half as many; a request of one record that is still too large is dead-lettered alone, its size and
 * the limit named. No attempt is counted for a split.
 */
async function tooLargeJob(
  deps: JobCreationDeps,
  job: JobRow,
  error: GeminiApiError,
  bytes: number,
): Promise<CreationOutcome> {
  const { splits, store } = deps;
  if (!splits) return refusedJob(deps, job, error);
  const recordIds = (await store.jobMembers(job.id)).map((member) => member.recordId);
  const asFile = job.kind === 'inline';
  if (asFile || job.requestCount > 1) {
    await store.abandonJobIntent(job.id);
    if (asFile) splits.asFile(job.id, recordIds, job.requestCount);
    else splits.halve(job.id, recordIds, job.requestCount, true);
    const again = asFile
      ? 'they go again as an uploaded file'
      : `they go again in uploaded files of at most ${countOfRequests(Math.ceil(job.requestCount / 2))} each`;
    deps.emit({
      type: 'warning',
      message: `The API refused job ${job.id} (${countOfRequests(job.requestCount)}, ${bytes} bytes ${asFile ? 'inline' : 'uploaded'}) as too large (HTTP ${error.status ?? 413}): ${again}.`,
    });
    return { kind: 'split' };
  }
  if (recordIds.length > 1) return halvedGroup({ ...deps, splits }, job, error, bytes, recordIds);
  const limit = payloadLimitOf(error);
  const message =
    `Request for ${recordIds.join(', ')} is too large for the API: ${bytes} bytes as a batch job's uploaded input, ` +
    `refused with HTTP ${error.status ?? 413} (${
      limit === undefined
        ? "the answer named no limit; Google's are 20 MB for a create's inline requests and 2 GB per uploaded file"
        : `limit ${limit} bytes`
    }) even alone. Shrink its inputs (its text, or its media).`;
  await failIntent(deps, job, error, { cause: 'too_large', message, maxRetries: 0 });
  return { kind: 'failed' };
}

/**
 * One grouped request (`records_per_request`) refused as too large: its records go again in groups of
 * half as many, each in a file of its own, down to a record alone; no attempt is counted.
 */
async function halvedGroup(
  deps: JobCreationDeps & { splits: SplitPlan },
  job: JobRow,
  error: GeminiApiError,
  bytes: number,
  recordIds: readonly string[],
): Promise<CreationOutcome> {
  await deps.store.abandonJobIntent(job.id);
  deps.splits.halveGroup(job.id, recordIds);
  const half = Math.ceil(recordIds.length / 2);
  deps.emit({
    type: 'warning',
    message: `The API refused job ${job.id} (1 request of ${recordIds.length} records, ${bytes} bytes uploaded) as too large (HTTP ${error.status ?? 413}): they go again in requests of at most ${half} record${half === 1 ? '' : 's'} each.`,
  });
  return { kind: 'split' };
}

/**
 * Drops an intent the API refused: each member still in flight files `how.message` under `how.cause`
 * as a failed attempt (dead-lettered once over `how.maxRetries`), and is told to the listener.
 */
async function failIntent(
  deps: JobCreationDeps,
  job: JobRow,
  error: GeminiApiError,
  how: { cause: string; message: string; maxRetries: number },
): Promise<void> {
  const { settings, store } = deps;
  const { cause, message } = how;
  const failures: FailureInput[] = [];
  for (const member of await store.jobMembers(job.id)) {
    const record = await store.getRecord(member.recordId);
    if (!record) continue;
    failures.push({
      recordId: member.recordId,
      jobId: job.id,
      attempt: member.attempt,
      cause,
      message,
      raw: null,
      promptName: settings.prompt.name,
      promptVersion: settings.prompt.version,
      promptHash: member.promptHash,
      event: rejectionEvent(
        {
          runId: deps.runId ?? null,
          lane: 'batch',
          model: settings.model,
          record,
          prompt: settings.prompt,
          attempt: member.attempt,
          cause,
          message,
          error,
        },
        deps.clock.now(),
      ),
    });
  }
  const outcomes = await store.failJobIntent(job.id, failures, how.maxRetries);
  for (const { recordId, outcome } of outcomes)
    deps.emit({ type: 'record-failed', recordId, jobId: job.id, cause, message, outcome });
}

/**
 * Uploads the job's JSONL under a name of its own, recorded in the store before the upload starts:
 * however the job then ends (refused, split, abandoned, done) or a crash interrupts it, the upload is
 * named in the store, and the input-file sweep deletes it once no active job uses it
 * (input-file-sweep.ts). Returns the file's name.
 */
async function uploadInput(
  deps: JobCreationDeps,
  jobId: string,
  upload: (name: string) => Promise<UploadedJobInput>,
): Promise<string> {
  const name = newInputFileName();
  await deps.store.recordInputUpload(jobId, name);
  try {
    const uploaded = (await upload(name)).file;
    // An API that named the file itself (ignoring the name asked for): that name is recorded too.
    if (uploaded.name && uploaded.name !== name) await deps.store.recordInputUpload(jobId, uploaded.name);
    return uploaded.name || name;
  } catch (error) {
    // A retried upload whose earlier try was stored though its answer was lost: the name is taken,
    // by this very upload (no one else draws it), so the file is there to use.
    if (GeminiApiError.isInstance(error) && error.status === 409 && (await deps.api.getFile(name)))
      return name;
    throw error;
  }
}

/** A fresh file name (`files/` + up to 40 lowercase letters, digits and dashes, as Google allows). */
function newInputFileName(): string {
  return `files/wb-input-${randomBytes(10).toString('hex')}`;
}

/** The intent's uploaded JSONL while it is young and still exists; null means write and upload it again. */
async function reusableInputFile(
  deps: JobCreationDeps,
  job: JobRow,
  size: { bytes: number },
): Promise<string | null> {
  if (!job.inputFile) return null;
  // Nothing updates an intent after its input file is recorded, so updatedAt is when its upload began.
  const age = (deps.now ?? (() => deps.clock.now()))() - Date.parse(job.updatedAt);
  if (!(age < INPUT_REUSE_MAX_AGE_MS)) return null;
  const file = await deps.api.getFile(job.inputFile);
  if (!file) return null; // gone: upload again
  size.bytes = file.sizeBytes ?? 0;
  return job.inputFile;
}

/** The JSONL lines of built requests. */
async function* requestLines(built: AsyncIterable<{ line: string }>): AsyncGenerator<string> {
  for await (const request of built) yield request.line;
}
