import { outputDocument, type Flight, type RecordLifecycle } from '../../lifecycle/index.js';
import type { KeptAnswer } from '../../lifecycle/kept-answer.js';
import type { RecordRequest, RecordRequestBuilder } from '../../runner/record-request.js';
import type { RunnerSettings } from '../../runner/settings.js';
import type { StoredEvent } from '../../store/event-log.js';
import type { StoredRecord } from '../../store/store.js';
import type { AttemptEventFactory } from '../../telemetry/attempt-event.js';

/** A ready record whose last attempt, in a batch job, bought an answer it could not settle (see withoutKeptAnswers). */
export interface KeptBatchAnswer {
  record: StoredRecord;
  /** The request the record would send now, which the kept answer answers. */
  request: RecordRequest;
  answer: KeptAnswer;
  /** The failed attempt that kept it: it names the job that bought the answer. */
  bought: StoredEvent & { jobId: string };
}

/** What applying kept batch answers needs: the request builder's prompt flush, the lifecycle, the attempt events. */
export interface KeptBatchAnswerDeps {
  requests: Pick<RecordRequestBuilder, 'flushPrompts'>;
  lifecycle: RecordLifecycle;
  settings: RunnerSettings;
  attempts: AttemptEventFactory;
  runId: number | null;
  now: () => number;
}

/**
 * Settles ready records with the answers batch jobs bought for them and could not settle (their
 * output could not be written: see RecordLifecycle), nothing sent: put in a new job, such a record
 * was billed again. The record stays ready until its output is written (see SettledSuccess.fromReady);
 * an output that still cannot be written fails it again, its answer still kept for the next round.
 */
export async function applyKeptBatchAnswers(
  deps: KeptBatchAnswerDeps,
  answers: readonly KeptBatchAnswer[],
): Promise<void> {
  if (answers.length === 0) return;
  // The prompts are in the inference log before the attempts' events refer to them.
  await deps.requests.flushPrompts();
  for (const answer of answers) await settle(deps, answer);
  await deps.lifecycle.flush();
}

/** Queues one kept answer's output with the lifecycle, as the job's result application would have. */
async function settle(deps: KeptBatchAnswerDeps, kept: KeptBatchAnswer): Promise<void> {
  const { settings } = deps;
  const { record, request, answer, bought } = kept;
  // The document names the job that bought the answer.
  const flight: Flight = { lane: 'batch', jobId: bought.jobId };
  const prompt = { ...settings.prompt, hash: request.promptHash };
  const now = deps.now();
  await deps.lifecycle.succeed({
    recordId: record.id,
    flight,
    fromReady: true,
    document: outputDocument({
      record,
      output: answer.output,
      prompt,
      model: settings.model,
      sourceHash: request.sourceHash,
      flight,
      jobName: bought.jobName,
      attempt: record.attempts,
      usage: answer.usage,
      completedAt: now,
    }),
    usage: answer.usage,
    attempt: record.attempts,
    promptHash: request.promptHash,
    // Nothing was bought now: the failure that kept the answer counted its bill.
    event: deps.attempts.create({
      runId: deps.runId,
      lane: 'batch',
      model: settings.model,
      job: { id: bought.jobId, name: bought.jobName },
      requestId: bought.requestId,
      requests: 0,
      record: { id: record.id, chainId: record.chainId, position: record.position },
      prompt,
      contextDigest: request.contextDigest,
      attempt: record.attempts,
      startedAt: now,
      finishedAt: now,
      usage: null,
      finishReason: answer.finishReason,
      output: answer.output,
    }),
  });
}
