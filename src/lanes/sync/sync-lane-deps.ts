import type { RunnerClock } from '../../clock.js';
import type { RecordLifecycle } from '../../lifecycle/index.js';
import type { OutputValidator } from '../../results/index.js';
import type { RunnerEventListener } from '../../runner/events.js';
import type { RecordRequest, RecordRequestBuilder } from '../../runner/record-request.js';
import type { RunnerSettings } from '../../runner/settings.js';
import type { HeldLease } from '../../store/lease.js';
import type { WorkloadStore } from '../../store/store.js';
import type { AttemptEventFactory } from '../../telemetry/attempt-event.js';
import type { SyncLane } from '../lane.js';
import type { KeptAnswer } from '../../lifecycle/kept-answer.js';
import type { ServeStage } from '../../lifecycle/local-failure.js';
import type { BilledAttempt, SyncExecutor, SyncOutcome } from './sync-executor.js';

/** What the synchronous lanes' driver works with: the lifecycle, the request builder, the executor and the run's hooks. */
export interface SyncLaneDeps {
  /** Claims ready records and settles every answer (the same lifecycle the batch lane settles through). */
  lifecycle: RecordLifecycle;
  /** The batch lane's request builder: a record becomes the same request on every lane. */
  requests: RecordRequestBuilder;
  executor: SyncExecutor;
  validator: OutputValidator;
  attempts: AttemptEventFactory;
  /** To send a predecessor whose output went missing again, and to read a record's earlier cut answers. */
  store: Pick<WorkloadStore, 'reopenRecord' | 'listEvents'>;
  settings: Pick<RunnerSettings, 'model' | 'prompt'>;
  clock: RunnerClock;
  emit: RunnerEventListener;
  /** The run's lease on the store: it bounds how long an answer a busy store refuses is kept and settled again. */
  lease?: Pick<HeldLease, 'expiresAt'>;
  /** The run the attempts are logged under. */
  runId: () => number | null;
  /** Feeds actual usage back into the token estimator. */
  observeUsage?: (estimatedTokens: number, actualInputTokens: number) => void;
  /** Told of every answered request: the lane's latency, send to answer, for the scheduler. */
  observeLatency?: (lane: SyncLane, ms: number) => void;
  /**
   * Given when the scheduler has another lane for a record (`auto`): a request with no answer within
   * its lane's timeout is then not sent again on that lane, where each abandoned call may be billed,
   * but fails its attempt at once, and this is told so the record goes elsewhere.
   */
  timedOut?: (recordId: string, lane: SyncLane) => void;
  /**
   * The cost cap's say on money not yet committed: what a billed try cost (`costOf`), and whether
   * `extraUsd` more may be committed now (`mayCommit`). Without it, nothing is capped here.
   */
  budget?: {
    costOf: (lane: SyncLane, usage: BilledAttempt) => number;
    mayCommit: (extraUsd: number) => boolean;
    /** A call given up at its timeout, at its estimate: Google may bill it, and no attempt's cost says so. */
    abandoned: (estimatedUsd: number) => void;
  };
}

/** How far one record's request got, for a failure of wavebatch's own on the way. */
export interface Progress {
  stage: ServeStage;
  built?: RecordRequest;
  outcome?: SyncOutcome;
  /** A valid answer, bought (or kept from an earlier attempt), being settled. */
  answer?: KeptAnswer;
}

/** A request in flight, with the estimate the cost cap counts until it settles. */
export interface Running {
  lane: SyncLane;
  estimatedUsd: number;
  /** The estimate of one call of it (what a call given up at the timeout may cost). */
  callUsd: number;
  done: Promise<void>;
  /** How many of its billed tries (the first ones) are in the inference log already. */
  loggedTries: number;
}
