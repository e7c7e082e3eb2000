import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { GeminiApiError, toInlinedRequest } from '../gemini/index.js';
import { MediaUploadError } from '../media/index.js';
import { jobDisplayName } from '../planner/job-name.js';
import { packJobs, type PackCandidate } from '../planner/packer.js';
import { ACTIVE_JOB_STATES, type JobRow, type StoredRecord, type WorkloadStore } from '../store/store.js';
import { rejectionEvent } from '../telemetry/attempt-event.js';
import type { BatchApi } from './batch-api.js';
import type { RunnerEventListener } from './events.js';
import { RecordRequestError, type RecordRequestBuilder } from './record-request.js';
import type { RunnerSettings } from './settings.js';

export interface SubmissionDeps {
  store: WorkloadStore;
  api: BatchApi;
  requests: RecordRequestBuilder;
  settings: RunnerSettings;
  emit: RunnerEventListener;
  /** Draws the nonce that makes each job intent's name unique; injectable for tests. */
  nonce?: () => string;
  /** Epoch ms on the store's clock (it stamps when a job's input file was recorded); default Date.now. */
  now?: () => number;
  /** The run that rejected records are logged under. */
  runId?: number | null;
}

/**
 * An uploaded JSONL input is reused only this soon after its upload. Its media were picked to outlive
 * the uploader's safety margin when it was written; an older JSONL may point at media that expire
 * (or have expired) before the job ends, so it is rebuilt, which refreshes them through the uploader.
 */
export const INPUT_REUSE_MAX_AGE_MS = 3600_000;

/** Outcome of one submission round. */
export interface SubmissionRound {
  submitted: number;
  /** Set when the server said a quota is exhausted; the runner waits before trying again. */
  quotaRetryDelayMs: number | null;
}

/**
 * Packs ready records into new jobs within the free capacity and creates them. Each job's intent
 * (its deterministic name and records) is stored before any remote call, so a crash mid-way is
 * recovered by adopting or re-creating exactly that job.
 */
export async function submitReadyRecords(deps: SubmissionDeps): Promise<SubmissionRound> {
  // Each ready request is built twice (sized, then written): the round reads each context once.
  deps.requests.beginRound();
  try {
    return await submitRound(deps);
  } finally {
    deps.requests.endRound();
  }
}

async function submitRound(deps: SubmissionDeps): Promise<SubmissionRound> {
  const { store, settings } = deps;
  const active = await store.listJobs(ACTIVE_JOB_STATES);
  const freeJobSlots = settings.maxConcurrentJobs - active.length;
  const usedTokens = active.reduce((sum, job) => sum + job.estimatedTokens, 0);
  const freeTokens = settings.enqueuedTokenBudget - usedTokens;
  if (freeJobSlots <= 0 || freeTokens <= 0) return { submitted: 0, quotaRetryDelayMs: null };

  const ready = await store.listReady(freeJobSlots * settings.maxRequestsPerJob);
  const byId = new Map<string, StoredRecord>();
  const candidates: PackCandidate[] = [];
  const hashes = new Map<string, { promptHash: string; contextDigest: string | null }>();
  // First pass sizes each request and keeps only the numbers; the bodies are rebuilt while writing,
  // so a round never holds a job's worth of inline images in memory.
  for (const record of ready) {
    try {
      const built = await deps.requests.build(record);
      byId.set(record.id, record);
      hashes.set(record.id, { promptHash: built.promptHash, contextDigest: built.contextDigest });
      candidates.push({ recordId: record.id, estimatedTokens: built.estimatedTokens, bytes: built.bytes });
    } catch (error) {
      if ((GeminiApiError.isInstance(error) && error.retryable) || error instanceof MediaUploadError) {
        // A media upload hit a network blip or a quota: the record waits for the next round.
        deps.emit({ type: 'warning', message: `Skipping ${record.id} this round: ${error.message}` });
        continue;
      }
      if (!(error instanceof RecordRequestError)) throw error;
      await failUnbuildable(deps, record, error);
    }
  }

  const { jobs, oversized } = packJobs(candidates, {
    freeJobSlots,
    maxRequestsPerJob: settings.maxRequestsPerJob,
    maxJobBytes: settings.maxJobBytes,
    freeTokens,
    tokenBudget: settings.enqueuedTokenBudget,
    inlineMaxBytes: settings.inlineMaxBytes,
  });
  for (const candidate of oversized) {
    const record = byId.get(candidate.recordId);
    if (!record) continue;
    await failOversized(deps, record, candidate);
  }

  // The prompts are in the inference log before any job refers to them.
  if (jobs.length > 0) await deps.requests.flushPrompts();
  let submitted = 0;
  for (const job of jobs) {
    const members = job.members.map((member) => ({
      recordId: member.recordId,
      attempt: byId.get(member.recordId)?.attempts ?? 0,
      promptHash: hashes.get(member.recordId)?.promptHash ?? '',
      contextDigest: hashes.get(member.recordId)?.contextDigest ?? null,
      estimatedTokens: member.estimatedTokens,
    }));
    const id = jobDisplayName(settings.workload, members, (deps.nonce ?? defaultNonce)());
    await store.createJobIntent({ id, model: settings.model, kind: job.kind, members });
    const intent = await store.getJob(id);
    if (!intent) continue;
    const outcome = await createRemoteJob(deps, intent);
    if (outcome.quotaRetryDelayMs !== undefined)
      return { submitted, quotaRetryDelayMs: outcome.quotaRetryDelayMs };
    submitted++;
  }
  return { submitted, quotaRetryDelayMs: null };
}

/**
 * Creates the remote batch job for a stored intent: writes and uploads its JSONL (or sends it
 * inline), then calls create with the deterministic display name. Also used to finish intents
 * found at start-up.
 */
export async function createRemoteJob(
  deps: SubmissionDeps,
  job: JobRow,
): Promise<{ quotaRetryDelayMs?: number | null }> {
  const { store, api, settings } = deps;
  const members = await store.jobMembers(job.id);
  try {
    let source: { fileName: string } | { requests: ReturnType<typeof toInlinedRequest>[] };
    let inputFile: string | null = null;
    if (job.kind === 'file') {
      inputFile = await reusableInputFile(deps, job);
      if (!inputFile) {
        const path = await writeJobInput(
          deps,
          job.id,
          members.map((m) => m.recordId),
        );
        const uploaded = await api.uploadJsonl(path, job.id);
        inputFile = uploaded.name;
        await store.setJobInputFile(job.id, inputFile);
        await rm(path, { force: true });
      }
      source = { fileName: inputFile };
    } else {
      const requests = [];
      for (const member of members) {
        const record = await store.getRecord(member.recordId);
        if (!record) continue;
        const built = await deps.requests.build(record);
        requests.push(toInlinedRequest(record.id, built.request));
      }
      source = { requests };
    }
    const created = await api.createBatch({ model: settings.model, displayName: job.id, source });
    await store.markJobSubmitted(job.id, created.name, inputFile);
    deps.emit({
      type: 'job-submitted',
      jobId: job.id,
      remoteName: created.name,
      kind: job.kind,
      model: job.model,
      requests: members.length,
      estimatedTokens: job.estimatedTokens,
    });
    return {};
  } catch (error) {
    if (error instanceof GeminiApiError && !error.retryable) {
      await store.abandonJobIntent(job.id);
      throw error;
    }
    if (error instanceof GeminiApiError && error.code === 'QUOTA_EXHAUSTED') {
      // The server refused: nothing was created, so the records go back to the queue.
      await store.abandonJobIntent(job.id);
      deps.emit({ type: 'quota-wait', reason: error.message, retryDelayMs: error.retryDelayMs ?? null });
      return { quotaRetryDelayMs: error.retryDelayMs ?? null };
    }
    if (error instanceof RecordRequestError) {
      await store.abandonJobIntent(job.id);
      throw error;
    }
    // Unknown outcome (network, 5xx): the job may exist remotely. Keep the intent; the next
    // recovery adopts the remote job by name or creates it.
    deps.emit({ type: 'warning', message: `Creating job ${job.id} failed (${String(error)}); will retry.` });
    return { quotaRetryDelayMs: null };
  }
}

/** The intent's uploaded JSONL while it is young and still exists; null means write and upload it again. */
async function reusableInputFile(deps: SubmissionDeps, job: JobRow): Promise<string | null> {
  if (!job.inputFile) return null;
  // Nothing updates an intent after its input file is recorded, so updatedAt is when it was uploaded.
  const age = (deps.now ?? Date.now)() - Date.parse(job.updatedAt);
  if (!(age < INPUT_REUSE_MAX_AGE_MS)) return null;
  return (await deps.api.getFile(job.inputFile)) ? job.inputFile : null; // gone: upload again
}

async function writeJobInput(deps: SubmissionDeps, jobId: string, recordIds: string[]): Promise<string> {
  const dir = join(deps.settings.dataDir, 'inputs');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${jobId}.jsonl`);
  const out = createWriteStream(path);
  for (const id of recordIds) {
    const record = await deps.store.getRecord(id);
    if (!record) continue;
    const built = await deps.requests.build(record);
    if (!out.write(`${built.line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return path;
}

async function failUnbuildable(
  deps: SubmissionDeps,
  record: StoredRecord,
  error: RecordRequestError,
): Promise<void> {
  await markForFailure(deps, record, 'input_error', error.message, error);
}

async function failOversized(
  deps: SubmissionDeps,
  record: StoredRecord,
  candidate: PackCandidate,
): Promise<void> {
  const message =
    `Request for ${record.id} is too large to ever fit a job (~${candidate.estimatedTokens} tokens, ${candidate.bytes} bytes; ` +
    `limits: enqueued_token_budget ${deps.settings.enqueuedTokenBudget}, max_job_bytes ${deps.settings.maxJobBytes}). ` +
    'Raise the limits or shrink its inputs.';
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
    (deps.now ?? Date.now)(),
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
