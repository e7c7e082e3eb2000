import type { Flight } from '../../lifecycle/index.js';
import type { Usage } from '../../results/index.js';
import type { RecordRequest } from '../../runner/record-request.js';
import type { InferenceEvent } from '../../store/event-log.js';
import type { ClaimedRecord } from '../../store/store.js';
import type { BilledRequest } from '../../telemetry/attempt-event.js';
import type { SyncLaneDeps } from './sync-lane-deps.js';

/** What an attempt's event is made with: the run's settings, the event factory and the run's id. */
export type AttemptEventDeps = Pick<SyncLaneDeps, 'settings' | 'attempts' | 'runId'>;

/** The inference-log event of one attempt of a synchronous request (its usage, answer or failure). */
export function syncAttemptEvent(
  deps: AttemptEventDeps,
  record: ClaimedRecord,
  flight: Flight,
  built: RecordRequest | null,
  result: {
    usage: Usage | null;
    /** Each billed try, priced on its own at the tier that served it. */
    billedRequests?: readonly BilledRequest[];
    finishReason: string | null;
    output?: unknown;
    startedAt?: number;
    finishedAt?: number;
    failure?: { cause: string; message: string; raw: string | null };
    /** A call with no answer that Google may bill: its cost is unknown, not 0. */
    costUnknown?: boolean;
    /** Requests billed for it (an answer cut at MAX_TOKENS is sent again); one by default. */
    requests?: number;
  },
  error?: unknown,
): InferenceEvent {
  const { settings } = deps;
  // A local error's stack goes with its failure into the log.
  const failure = result.failure
    ? { ...result.failure, ...(error === undefined ? {} : { error }) }
    : error instanceof Error
      ? failureOf(error)
      : undefined;
  return deps.attempts.create({
    runId: deps.runId(),
    lane: flight.lane,
    model: settings.model,
    requestId: record.requestId,
    record: { id: record.id, chainId: record.chainId, position: record.position },
    prompt: { ...settings.prompt, hash: built?.promptHash ?? null },
    contextDigest: built?.contextDigest ?? null,
    attempt: record.attempts,
    startedAt: result.startedAt ?? null,
    finishedAt: result.finishedAt ?? null,
    usage: result.usage,
    finishReason: result.finishReason,
    ...(result.billedRequests === undefined ? {} : { billedRequests: result.billedRequests }),
    ...(result.requests === undefined ? {} : { requests: result.requests }),
    ...(result.costUnknown ? { costUnknown: true } : {}),
    ...(result.output === undefined ? {} : { output: result.output }),
    ...(failure ? { failure } : {}),
  });
}

function failureOf(error: Error): { cause: string; message: string; raw: null; error: unknown } {
  return { cause: 'input_error', message: error.message, raw: null, error };
}
