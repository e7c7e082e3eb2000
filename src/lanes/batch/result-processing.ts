import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchJobInfo } from '../../gemini/index.js';
import { outputDocument, type Flight, type RecordLifecycle } from '../../lifecycle/index.js';
import {
  classifyGroupResult,
  classifyResult,
  readResultLines,
  type OutputValidator,
  type ResultInput,
  type ResultOutcome,
  type Usage,
} from '../../results/index.js';
import { groupPositions } from './request-groups.js';
import type { InferenceEvent } from '../../store/event-log.js';
import type { JobMember, JobRecord, JobRow, WorkloadStore } from '../../store/store.js';
import type { AttemptEventFactory } from '../../telemetry/attempt-event.js';
import type { BatchApi } from './batch-api.js';
import type { RunnerEventListener } from '../../runner/events.js';
import type { StallWatch } from './stall-policy.js';
import type { RunnerSettings } from '../../runner/settings.js';
import { makeFolder } from '../../make-folder.js';

export interface ResultProcessingDeps {
  /** Jobs, their members and the records in flight in them (records are settled through `lifecycle`). */
  store: Pick<
    WorkloadStore,
    'listJobs' | 'jobMembers' | 'recordsInJob' | 'updateJobState' | 'releaseJobRecords'
  >;
  api: BatchApi;
  /** Settles each result: output written, record done and successor unlocked, or retried / dead-lettered. */
  lifecycle: RecordLifecycle;
  validator: OutputValidator;
  settings: RunnerSettings;
  emit: RunnerEventListener;
  now: () => number;
  /** Feeds actual usage back into the token estimator. */
  observeUsage: (estimatedTokens: number, actualInputTokens: number) => void;
  /** Builds each attempt's event for the inference log. */
  attempts: AttemptEventFactory;
  /** The run the attempts are logged under. */
  runId: number | null;
  /** Watches PENDING and RUNNING jobs for stalls; without it none are looked for. */
  stalls?: StallWatch;
  /**
   * Told when an inline job's responses came back without `metadata.key` (js-genai#1191): they
   * cannot be matched to their requests, so later jobs should go as files, whose rows carry the key.
   */
  onUnmatchedInline?: () => void;
}

interface RawResult {
  key: string | undefined;
  response?: unknown;
  error?: unknown;
  malformed?: boolean;
  raw?: string;
}

/**
 * Applies a succeeded job's results through the record lifecycle: valid outputs are written to the
 * sink a group at a time and the group is then marked done in one store transaction; each failure
 * is logged and retried or dead-lettered. Safe to run again after a crash: records no longer in
 * flight in this job are skipped, and those whose output was written but not yet marked done are
 * still in flight, so they are applied again (a file replaces itself; a shard's uncommitted tail
 * was cut at start-up). The job is `processed` only after every result is settled.
 */
export async function processSucceededJob(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
): Promise<void> {
  const memberList = await deps.store.jobMembers(job.id);
  const members = new Map(memberList.map((m) => [m.recordId, m]));
  // One query for the job instead of one per result: the records still in flight in it.
  const inFlight = new Map((await deps.store.recordsInJob(job.id)).map((r) => [r.id, r]));
  const seen = new Set<string>();
  let succeeded = 0;
  let failed = 0;
  /** Results without a key: nothing ties them to a request (never matched by position: the order is Google's). */
  let keyless = 0;

  const apply = async (result: RawResult) => {
    if (result.key === undefined) {
      keyless++;
      return;
    }
    // A record's own result, or a grouped request's: one answer for several records, one outcome each.
    const member = members.get(result.key);
    const positions = member ? null : groupPositions(result.key, memberList.length);
    if (!member && !positions) {
      deps.emit({
        type: 'warning',
        message: `Job ${job.id} returned a result for an unknown key ${JSON.stringify(result.key)}; ignored.`,
      });
      return;
    }
    const settled: Array<{ member: JobMember; outcome: () => ResultOutcome; requests: number }> = member
      ? [{ member, outcome: () => classifyResult(rawInput(result), deps.validator), requests: 1 }]
      : groupOutcomes(positions ?? [], result);
    for (const { member: target, outcome, requests } of settled) {
      if (seen.has(target.recordId)) continue;
      seen.add(target.recordId);
      const request = { key: result.key, requests };
      const record = inFlight.get(target.recordId);
      const ok = await applyResult(deps, job, remote, target, record, request, outcome);
      if (ok) succeeded++;
      else failed++;
    }
  };

  /**
   * The members a grouped result names, each with its share of the classified answer; the first
   * one's attempt counts the request (as it does when that record was settled before a crash).
   */
  const groupOutcomes = (positions: readonly number[], result: RawResult) => {
    const group = positions.map((position) => memberList[position] as JobMember);
    const outcomes = classifyGroupResult(
      rawInput(result),
      group.map((m) => m.recordId),
      deps.validator,
    );
    return group.map((grouped, index) => ({
      member: grouped,
      outcome: () => outcomes[index] as ResultOutcome,
      requests: index === 0 ? 1 : 0,
    }));
  };

  if (remote.resultsFileName) {
    const dir = join(deps.settings.dataDir, 'results');
    await makeFolder(dir);
    const path = join(dir, `${job.id}.jsonl`);
    await deps.api.downloadFile(remote.resultsFileName, path);
    for await (const line of readResultLines(path)) {
      await apply({
        key: line.key,
        response: line.response,
        error: line.error,
        malformed: line.malformed,
        raw: line.raw,
      });
    }
    await rm(path, { force: true });
  } else if (remote.inlinedResponses) {
    for (const inline of remote.inlinedResponses)
      await apply({ key: inline.key, response: inline.response, error: inline.error });
  }
  const flight: Flight = { lane: 'batch', jobId: job.id };
  await deps.lifecycle.flush(flight);

  const inline = !remote.resultsFileName && remote.inlinedResponses !== undefined;
  if (keyless > 0) {
    deps.emit({
      type: 'warning',
      message:
        `Job ${job.id} returned ${keyless} result${keyless === 1 ? '' : 's'} without a key` +
        (inline
          ? ' (inline responses without metadata.key, a known Batch API fault: js-genai#1191); they cannot be matched to their requests, so their records are sent again, and from now on this run sends every job as an uploaded file, whose results carry the key.'
          : '; they cannot be matched to their requests, so their records are sent again.'),
    });
    if (inline) deps.onUnmatchedInline?.();
  }
  for (const member of members.values()) {
    if (seen.has(member.recordId)) continue;
    failed++;
    // No request is counted: nothing answered it, and Google bills answered requests only.
    const request = { key: member.recordId, requests: 0 };
    await recordFailure(deps, job, remote, member, inFlight.get(member.recordId) ?? null, request, {
      cause: 'missing_result',
      message:
        keyless > 0
          ? `Job ${job.id} returned results without keys; none could be matched to ${member.recordId}.`
          : `Job ${job.id} finished without a result for ${member.recordId}.`,
      raw: null,
      retryable: true,
    });
  }
  // Throws when an output of this job was in a group another caller settled and a busy store
  // refused: the job is applied again on the next pass, not marked processed with records in flight.
  await deps.lifecycle.flush(flight);
  await deps.store.updateJobState(job.id, 'processed');
  await deps.lifecycle.checkpoint();
  deps.emit({ type: 'job-processed', jobId: job.id, succeeded, failed, requests: job.requestCount });
}

/**
 * Settles a job Google ended FAILED (its verdict on the whole job: an internal error, an input it
 * could not read): each record still in flight in it counts a failed attempt (`job_failed`, with
 * Google's message), back to the queue or, out of retries, dead-lettered. Nothing was answered, so
 * no request is counted. They were released with only the attempt counted, never dead-lettered: a
 * job that always failed was sent again for ever, and `failures` listed nothing. Returns how many
 * records it settled (a replay after a crash finds those already settled gone from the job).
 */
export async function failFailedJob(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
): Promise<{ retried: number; dead: number }> {
  const members = new Map((await deps.store.jobMembers(job.id)).map((m) => [m.recordId, m]));
  const message = `Job ${job.id} ended FAILED: ${remote.error?.message ?? 'Google gave no reason'}`;
  const settled = { retried: 0, dead: 0 };
  for (const record of await deps.store.recordsInJob(job.id)) {
    const member = members.get(record.id);
    if (!member) continue;
    // Filed as a failure, not logged as an attempt event: the inference log holds what was
    // answered (a per-request error row included), and Google answered nothing of this job.
    const outcome = await deps.lifecycle.fail({
      recordId: record.id,
      flight: { lane: 'batch', jobId: job.id },
      attempt: member.attempt,
      cause: 'job_failed',
      message,
      raw: null,
      retryable: true,
      promptHash: member.promptHash,
    });
    if (outcome === 'dead') settled.dead++;
    else if (outcome === 'retry') settled.retried++;
  }
  return settled;
}

/**
 * Sends an EXPIRED job's records back to the queue without counting an attempt (Google's queue let
 * the job expire, not the records), each expiry logged as a failure (`job_expired`) with its running
 * count; a record whose jobs expired more than max_retries times is dead-lettered with it, so a job
 * that always expires is not sent again for ever.
 */
export async function expireExpiredJob(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
): Promise<{ retried: number; dead: number; mostExpiries: number }> {
  const members = new Map((await deps.store.jobMembers(job.id)).map((m) => [m.recordId, m]));
  const reason = remote.error?.message ?? 'Google gave no reason';
  const settled = { retried: 0, dead: 0, mostExpiries: 0 };
  for (const record of await deps.store.recordsInJob(job.id)) {
    const member = members.get(record.id);
    if (!member || record.status !== 'in_flight' || record.jobId !== job.id) continue;
    const expiries = record.expiries + 1;
    settled.mostExpiries = Math.max(settled.mostExpiries, expiries);
    const outcome = await deps.lifecycle.fail({
      recordId: record.id,
      flight: { lane: 'batch', jobId: job.id },
      attempt: member.attempt,
      cause: 'job_expired',
      message:
        `Job ${job.id} ended EXPIRED (${reason.replace(/\.$/, '')}): this record's jobs expired ${expiries} ` +
        `time${expiries === 1 ? '' : 's'} in a row; an expiry counts no attempt, and past ` +
        `execution.max_retries (${deps.settings.maxRetries}) expiries the record is dead-lettered.`,
      raw: null,
      retryable: true,
      promptHash: member.promptHash,
      expiry: true,
    });
    if (outcome === 'dead') settled.dead++;
    else if (outcome === 'retry') settled.retried++;
  }
  return settled;
}

async function applyResult(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
  member: JobMember,
  record: JobRecord | undefined,
  request: RequestShare,
  classify: () => ResultOutcome,
): Promise<boolean> {
  // Settled already (a replay after a crash): nothing to do.
  if (!record || record.status !== 'in_flight' || record.jobId !== job.id) return true;
  const outcome = classify();
  if (!outcome.ok) {
    await recordFailure(deps, job, remote, member, record, request, outcome);
    return false;
  }
  const usage = outcome.usage;
  deps.observeUsage(member.estimatedTokens, usage.inputTokens);
  const flight: Flight = { lane: 'batch', jobId: job.id };
  await deps.lifecycle.succeed({
    recordId: record.id,
    flight,
    document: outputDocument({
      record,
      output: outcome.output,
      prompt: { ...deps.settings.prompt, hash: member.promptHash },
      model: job.model,
      sourceHash: member.sourceHash ?? null,
      flight,
      jobName: job.remoteName,
      attempt: member.attempt,
      usage,
      completedAt: deps.now(),
    }),
    usage,
    attempt: member.attempt,
    promptHash: member.promptHash,
    event: attemptEvent(deps, job, remote, member, record, request, {
      usage,
      finishReason: outcome.finishReason,
      output: outcome.output,
    }),
  });
  return true;
}

/** The request that carried a record (its key in the job), and whether its attempt counts that request. */
interface RequestShare {
  key: string;
  /** 1, or 0 for the records of a grouped request after its first. */
  requests: number;
}

/** A result as classification reads it. */
function rawInput(result: RawResult): ResultInput {
  return result.malformed
    ? { malformed: true, raw: result.raw ?? '' }
    : { response: result.response, error: result.error };
}

/** Why an attempt failed, as classification (or the runner) found it. */
interface AttemptFailure {
  cause: string;
  message: string;
  raw: string | null;
  retryable: boolean;
  usage?: Usage;
  finishReason?: string | null;
}

async function recordFailure(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
  member: JobMember,
  record: JobRecord | null,
  request: RequestShare,
  failure: AttemptFailure,
): Promise<void> {
  const { cause, message, raw } = failure;
  const event = attemptEvent(deps, job, remote, member, record, request, {
    usage: failure.usage ?? null,
    finishReason: failure.finishReason ?? null,
    failure: { cause, message, raw },
  });
  await deps.lifecycle.fail({
    recordId: member.recordId,
    flight: { lane: 'batch', jobId: job.id },
    attempt: member.attempt,
    cause,
    message,
    raw,
    retryable: failure.retryable,
    promptHash: member.promptHash,
    event,
  });
}

/**
 * The attempt's event: a batch attempt lasts from its job's creation to the job's end. It counts
 * the request that carried it when that request was billed and this is its first record.
 */
function attemptEvent(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
  member: JobMember,
  record: JobRecord | null,
  request: RequestShare,
  result: {
    usage: Usage | null;
    finishReason: string | null;
    output?: unknown;
    failure?: { cause: string; message: string; raw: string | null };
  },
): InferenceEvent {
  const started = Date.parse(remote.createTime ?? job.createdAt);
  const ended = remote.endTime ? Date.parse(remote.endTime) : deps.now();
  return deps.attempts.create({
    runId: deps.runId,
    lane: 'batch',
    model: job.model,
    job: { id: job.id, name: job.remoteName },
    requestId: request.key,
    // A result without usage (an error row, or none at all) was not billed: it counts no request.
    requests: result.usage ? request.requests : 0,
    record: { id: member.recordId, chainId: record?.chainId ?? null, position: record?.position ?? null },
    prompt: { ...deps.settings.prompt, hash: member.promptHash || null },
    contextDigest: member.contextDigest ?? null,
    attempt: member.attempt,
    startedAt: Number.isFinite(started) ? started : null,
    finishedAt: Number.isFinite(ended) ? ended : null,
    usage: result.usage,
    finishReason: result.finishReason,
    ...(result.output === undefined ? {} : { output: result.output }),
    ...(result.failure ? { failure: result.failure } : {}),
  });
}
