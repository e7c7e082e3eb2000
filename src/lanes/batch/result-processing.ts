import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchJobInfo } from '../../gemini/index.js';
import type { OutputDocument, OutputSink } from '../../outputs/index.js';
import { classifyResult, readResultLines, type OutputValidator } from '../../results/index.js';
import type { Usage } from '../../results/index.js';
import type { InferenceEvent } from '../../store/event-log.js';
import type { JobMember, JobRow, RecordSuccess, StoredRecord, WorkloadStore } from '../../store/store.js';
import type { AttemptEventFactory } from '../../telemetry/attempt-event.js';
import type { BatchApi } from './batch-api.js';
import type { RunnerEventListener } from '../../runner/events.js';
import type { StallWatch } from './stall-policy.js';
import type { RunnerSettings } from '../../runner/settings.js';

export interface ResultProcessingDeps {
  store: WorkloadStore;
  api: BatchApi;
  outputs: OutputSink;
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
 * Applies a succeeded job's results: valid outputs are written to the sink a group at a time and the
 * group is then marked done in one store transaction; each failure is logged and retried or
 * dead-lettered. Safe to run again after a crash: records no longer in flight in this job are
 * skipped, and those whose output was written but not yet marked done are still in flight, so they
 * are applied again (a file replaces itself; a shard's uncommitted tail was cut at start-up).
 */
export async function processSucceededJob(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
): Promise<void> {
  const members = new Map((await deps.store.jobMembers(job.id)).map((m) => [m.recordId, m]));
  // One query for the job instead of one per result: the records still in flight in it.
  const inFlight = new Map((await deps.store.listRecords({ jobId: job.id })).map((r) => [r.id, r]));
  const seen = new Set<string>();
  let succeeded = 0;
  let failed = 0;
  /** Results without a key: nothing ties them to a request (never matched by position: the order is Google's). */
  let keyless = 0;
  const completions = new CompletionGroup(deps);

  const apply = async (result: RawResult) => {
    if (result.key === undefined) {
      keyless++;
      return;
    }
    const member = members.get(result.key);
    if (!member) {
      deps.emit({
        type: 'warning',
        message: `Job ${job.id} returned a result for an unknown key ${JSON.stringify(result.key)}; ignored.`,
      });
      return;
    }
    if (seen.has(member.recordId)) return;
    seen.add(member.recordId);
    const ok = await applyResult(
      deps,
      job,
      remote,
      member,
      inFlight.get(member.recordId),
      result,
      completions,
    );
    if (ok) succeeded++;
    else failed++;
  };

  if (remote.resultsFileName) {
    const dir = join(deps.settings.dataDir, 'results');
    await mkdir(dir, { recursive: true });
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
  await completions.flush();

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
    await recordFailure(deps, job, remote, member, inFlight.get(member.recordId) ?? null, {
      cause: 'missing_result',
      message:
        keyless > 0
          ? `Job ${job.id} returned results without keys; none could be matched to ${member.recordId}.`
          : `Job ${job.id} finished without a result for ${member.recordId}.`,
      raw: null,
      retryable: true,
    });
  }
  await deps.store.updateJobState(job.id, 'processed');
  await deps.outputs.checkpoint();
  deps.emit({ type: 'job-processed', jobId: job.id, succeeded, failed });
}

async function applyResult(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
  member: JobMember,
  record: StoredRecord | undefined,
  result: RawResult,
  completions: CompletionGroup,
): Promise<boolean> {
  // Settled already (a replay after a crash): nothing to do.
  if (!record || record.status !== 'in_flight' || record.jobId !== job.id) return true;
  const outcome = classifyResult(
    result.malformed
      ? { malformed: true, raw: result.raw ?? '' }
      : { response: result.response, error: result.error },
    deps.validator,
  );
  if (!outcome.ok) {
    await recordFailure(deps, job, remote, member, record, outcome);
    return false;
  }
  const usage = outcome.usage;
  deps.observeUsage(member.estimatedTokens, usage.inputTokens);
  const document: OutputDocument = {
    id: record.id,
    output: outcome.output,
    meta: {
      prompt: {
        name: deps.settings.prompt.name,
        version: deps.settings.prompt.version,
        hash: member.promptHash,
        ...(deps.settings.prompt.templateHash ? { template: deps.settings.prompt.templateHash } : {}),
      },
      model: job.model,
      ...(member.sourceHash ? { source: { hash: member.sourceHash } } : {}),
      job: job.remoteName ?? job.id,
      attempt: member.attempt,
      usage,
      completedAt: new Date(deps.now()).toISOString(),
      ...(record.predecessorId ? { contextFrom: record.predecessorId } : {}),
    },
  };
  await completions.add(document, {
    recordId: record.id,
    jobId: job.id,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    event: attemptEvent(deps, job, remote, member, record, {
      usage,
      finishReason: outcome.finishReason,
      output: outcome.output,
    }),
  });
  return true;
}

/**
 * Collects valid outputs and settles them a group at a time: the sink makes the group durable, then
 * one store transaction marks its records done (with each line's location and the shard's new
 * committed length). A record is never marked done before its output is durable.
 */
class CompletionGroup {
  private pending: Array<{ document: OutputDocument; success: RecordSuccess }> = [];

  constructor(private readonly deps: ResultProcessingDeps) {}

  /** Queues an output; settles the group once it is full. */
  async add(document: OutputDocument, success: RecordSuccess): Promise<void> {
    this.pending.push({ document, success });
    if (this.pending.length >= this.deps.outputs.groupSize) await this.flush();
  }

  /** Writes every queued output, commits their completions in one transaction, reports each as done. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    const written = await this.deps.outputs.writeGroup(group.map((entry) => entry.document));
    const successes = group.map((entry, index) => ({
      ...entry.success,
      location: written.locations[index] ?? null,
    }));
    await this.deps.store.completeRecords(successes, written.commit);
    for (const success of successes)
      this.deps.emit({
        type: 'record-done',
        recordId: success.recordId,
        jobId: success.jobId,
        ...(success.event ? { event: success.event } : {}),
      });
  }
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
  record: StoredRecord | null,
  failure: AttemptFailure,
): Promise<void> {
  const { cause, message, raw } = failure;
  const event = attemptEvent(deps, job, remote, member, record, {
    usage: failure.usage ?? null,
    finishReason: failure.finishReason ?? null,
    failure: { cause, message, raw },
  });
  const outcome = await deps.store.failRecord(
    {
      recordId: member.recordId,
      jobId: job.id,
      attempt: member.attempt,
      cause,
      message,
      raw,
      promptName: deps.settings.prompt.name,
      promptVersion: deps.settings.prompt.version,
      promptHash: member.promptHash,
      event,
    },
    deps.settings.maxRetries,
    failure.retryable,
  );
  deps.emit({
    type: 'record-failed',
    recordId: member.recordId,
    jobId: job.id,
    cause,
    message,
    outcome,
    ...(outcome === 'stale' ? {} : { event: { ...event, type: outcome } }),
  });
}

/** The attempt's event: a batch attempt lasts from its job's creation to the job's end. */
function attemptEvent(
  deps: ResultProcessingDeps,
  job: JobRow,
  remote: BatchJobInfo,
  member: JobMember,
  record: StoredRecord | null,
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
    requestId: member.recordId,
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
