import type { Lane, SyncLane } from '../lanes/lane.js';
import type { GroupWrite, OutputDocument, OutputSink } from '../outputs/index.js';
import type { RunnerEvent } from '../runner/events.js';
import type { InferenceEvent } from '../store/event-log.js';
import type { ClaimedRecord, FailureOutcome, RecordSuccess, WorkloadStore } from '../store/store.js';
import { unsettledEvent } from '../telemetry/attempt-event.js';
import { flightKeys, type Flight } from './flight.js';
import { isPassingLocalFailure, settledLocalFailure, type LocalFailure } from './local-failure.js';

/** The part of the store the lifecycle changes: claims, completions and failures, nothing else. */
export type LifecycleStore = Pick<
  WorkloadStore,
  'claimReady' | 'releaseClaim' | 'completeRecords' | 'failRecord' | 'logFailedTry'
>;

/** What the lifecycle reports: each settled attempt, with its event as the inference log stored it. */
export type SettlementEvent = Extract<RunnerEvent, { type: 'record-done' | 'record-failed' }>;

export interface RecordLifecycleDeps {
  store: LifecycleStore;
  /** Where valid outputs are made durable before the store marks their records done. */
  outputs: Pick<OutputSink, 'writeGroup' | 'discardGroup' | 'groupSize' | 'checkpoint'>;
  emit: (event: SettlementEvent) => void;
  /** Attempts after the first before a record is dead-lettered. */
  maxRetries: number;
  /** The prompt the failures are filed under. */
  prompt: { name: string; version: string };
}

/** A valid output of one flight, to be written and marked done. */
export interface SettledSuccess {
  recordId: string;
  flight: Flight;
  /**
   * The record is ready, in no flight: `flight` is the one that bought the answer, kept from an
   * earlier attempt that could not settle it (see keptAnswer), applied now without sending it again.
   */
  fromReady?: boolean;
  /** The output document (see `outputDocument`). */
  document: OutputDocument;
  usage: { inputTokens: number; outputTokens: number };
  /** The record's attempt this output settles, and its rendered prompt's hash: filed with a failure to write it. */
  attempt: number;
  promptHash: string | null;
  /**
   * The attempt's event: logged in the same transaction that marks the record done, or, when the
   * output cannot be written, with the failure, its output kept for the retry (see settleAlone).
   */
  event?: InferenceEvent;
}

/** Why one attempt failed, and whether another can help. */
export interface SettledFailure {
  recordId: string;
  /**
   * The flight the attempt was in; null for a ready record that could not be sent at all, or whose
   * kept answer could not be settled again (see SettledSuccess.fromReady).
   */
  flight: Flight | null;
  /** The lane of a failure without a flight, reported with it (a flight names its own). */
  lane?: Lane;
  attempt: number;
  cause: string;
  message: string;
  raw: string | null;
  /** False dead-letters at once (a blocked prompt, a request that can never fit). */
  retryable: boolean;
  promptHash: string | null;
  /** The attempt's event: logged with the failure, its type set to the outcome (retry / dead). */
  event?: InferenceEvent;
  /** Its batch job ended EXPIRED: counts an expiry, not an attempt (see FailureInput.expiry). */
  expiry?: boolean;
}

/**
 * The record lifecycle, the same for every lane: claim ready records → send them (the lane's
 * business) → settle each outcome. A success is written through the output sink first and then,
 * in one store transaction, marked done, its successor unblocked and its attempt event logged; a
 * failure is retried or dead-lettered by its cause, its event logged in the same transaction.
 *
 * An output that cannot be written (a file where its folder should be, a full disk) fails its record
 * alone: a group whose write fails is written again output by output, the ones written are done and
 * each one that still fails counts a failed attempt of cause `local_error` (retried, dead-lettered
 * past max_retries), its answer kept in its event so the retry applies it without buying it again.
 * The group's failure used to reach the lane with the group already dropped: the other answers in
 * it were lost with their records left in flight, and a batch job whose output could not be written
 * failed the run at every start, its good records never written.
 *
 * Crash safety: a record is never marked done before its output is durable (a crash in between
 * leaves it in flight, its output is applied again, a file replaces itself and an uncommitted shard
 * tail is cut at start-up); a settle names the record's flight, so an outcome of an older flight
 * (a replay, a request that lost a hedge) changes nothing and is never logged twice.
 *
 * Settles are serialized (one at a time, in call order), so lanes may call it from concurrent
 * requests: the sink's writes and the store's transactions never interleave.
 *
 * One group holds what every lane queued (in mode `auto` a batch job's outputs and synchronous
 * answers), so a group that could not be settled (a busy store) is told to each flight whose
 * outputs it held, at that flight's own `flush`, not to the call that happened to settle it. Told
 * to that call alone, a synchronous answer's flush dropped the batch outputs queued with it and the
 * job was marked applied, its records in flight for ever; the batch lane's flush dropped a queued
 * synchronous answer, whose request went on as if it were settled.
 */
export class RecordLifecycle {
  private pending: SettledSuccess[] = [];
  /** Why outputs of a flight (see flightName) in a group that could not be settled were not: told at its flush. */
  private readonly owed = new Map<string, unknown>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RecordLifecycleDeps) {}

  /**
   * Claims up to `limit` ready records for synchronous requests on `lane` (only `recordIds` when
   * given), each in its own request `<claimId>-<n>`.
   */
  claim(
    lane: SyncLane,
    limit: number,
    claimId: string,
    recordIds?: readonly string[],
  ): Promise<ClaimedRecord[]> {
    return this.serially(() =>
      this.deps.store.claimReady({ lane, limit, claimId, ...(recordIds ? { recordIds } : {}) }),
    );
  }

  /** Gives a claimed record back (its request was never answered), without counting an attempt. */
  release(recordId: string, requestId: string): Promise<boolean> {
    return this.serially(() => this.deps.store.releaseClaim(recordId, requestId));
  }

  /**
   * Queues a valid output; the queue is settled once it holds a sink group (`flush` settles it
   * sooner). Resolves when the output is queued, or settled if this filled the group.
   */
  succeed(success: SettledSuccess): Promise<void> {
    return this.serially(async () => {
      this.pending.push(success);
      if (this.pending.length >= this.deps.outputs.groupSize) await this.settleFor(success.flight);
    });
  }

  /**
   * Settles every queued output now: written durably, then marked done in one transaction. With
   * `flight` (the caller's: its batch job, its request), it throws only when an output of that
   * flight could not be settled, in this group or one settled before (a busy store): the caller
   * must not go on as if it were (a batch job is applied again, a request settles its answer again).
   * Without, it throws whatever failed the group (a kept answer's record stays ready, applied again).
   * Any failure but a busy store's is thrown to every caller: it stops the run.
   */
  flush(flight?: Flight): Promise<void> {
    return this.serially(() => (flight ? this.settleFor(flight) : this.settlePending()));
  }

  /**
   * Settles what is queued and throws what `flight`'s outputs are owed, once: a busy store's failure
   * of the others' outputs is theirs (see settlePending), any other failure stops the run and is
   * thrown here too. A caller that gave up before its flush (a job's application that threw) is
   * told at its next one, which puts that job off once more.
   */
  private async settleFor(flight: Flight): Promise<void> {
    const name = flightName(flight);
    try {
      await this.settlePending();
    } catch (error) {
      if (!isPassingLocalFailure(error)) {
        this.owed.delete(name);
        throw error;
      }
    }
    if (!this.owed.has(name)) return;
    const error = this.owed.get(name);
    this.owed.delete(name);
    throw error;
  }

  /** Settles a failed attempt: retried (back to ready) or dead-lettered; 'stale' if the flight no longer owns the record. */
  fail(failure: SettledFailure): Promise<FailureOutcome> {
    return this.serially(() => this.settleFailure(failure));
  }

  /**
   * Files a failure of wavebatch's own on any lane (see settledLocalFailure): counted, retried, then
   * dead-lettered. 'passed' when it may pass if the step is taken again (a busy store, see
   * isPassingLocalFailure): nothing is filed, and the lane gives the record back uncounted. Outputs
   * that cannot be settled are filed here too (see settleAlone), so every lane files them alike.
   */
  failLocally(failure: LocalFailure): Promise<FailureOutcome | 'passed'> {
    return this.serially(async () =>
      isPassingLocalFailure(failure.error) ? 'passed' : this.settleFailure(settledLocalFailure(failure)),
    );
  }

  /** Files a failure and reports it (see `fail`); runs inside a serial step. */
  private async settleFailure(failure: SettledFailure): Promise<FailureOutcome> {
    const { recordId, flight, cause, message, raw } = failure;
    const keys = flightKeys(flight);
    const outcome = await this.deps.store.failRecord(
      {
        recordId,
        ...keys,
        attempt: failure.attempt,
        cause,
        message,
        raw,
        promptName: this.deps.prompt.name,
        promptVersion: this.deps.prompt.version,
        promptHash: failure.promptHash,
        ...(failure.event ? { event: failure.event } : {}),
        ...(failure.expiry ? { expiry: true } : {}),
      },
      this.deps.maxRetries,
      failure.retryable,
    );
    this.deps.emit({
      type: 'record-failed',
      recordId,
      ...keys,
      ...(flight ? { lane: flight.lane } : failure.lane ? { lane: failure.lane } : {}),
      cause,
      message,
      outcome,
      ...(outcome === 'stale' || !failure.event ? {} : { event: { ...failure.event, type: outcome } }),
    });
    return outcome;
  }

  /**
   * Logs a billed try of a request that goes on (an answer cut at MAX_TOKENS or an empty one, sent
   * again), and reports it as a failed attempt that is retried, at once: it was paid for, so it is
   * on record whatever becomes of the request (a crash before it settles lost it from every figure
   * while Google's bill had it). The record's state and attempt count are left alone.
   */
  logBilledTry(recordId: string, flight: Flight, event: InferenceEvent): Promise<void> {
    return this.serially(async () => {
      // Filed as a failure too: `failures` and `status` count it, as the report's analysis does.
      await this.deps.store.logFailedTry({
        recordId,
        ...flightKeys(flight),
        attempt: event.attempt ?? 0,
        cause: event.cause ?? 'unknown',
        message: event.message ?? '',
        raw: event.raw ?? null,
        promptName: event.promptName ?? this.deps.prompt.name,
        promptVersion: event.promptVersion ?? this.deps.prompt.version,
        promptHash: event.promptHash ?? null,
        event,
      });
      this.deps.emit({
        type: 'record-failed',
        recordId,
        ...flightKeys(flight),
        lane: flight.lane,
        cause: event.cause ?? 'unknown',
        message: event.message ?? '',
        outcome: 'retry',
        event,
      });
    });
  }

  /** Settles what is queued and brings the sink's outside-facing metadata (the JSONL manifest) up to date. */
  checkpoint(): Promise<void> {
    return this.serially(async () => {
      await this.settlePending();
      await this.deps.outputs.checkpoint();
    });
  }

  /**
   * Settles the queued group; when it throws, the outputs it left neither done nor filed are owed
   * the error, each to its own flight's `flush` (see settleFor).
   */
  private async settlePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    const left = new Set(group);
    try {
      await this.settleGroup(group, left);
    } catch (error) {
      // A ready record's kept answer is owed to nobody: it stays ready, and the next round applies it again.
      for (const entry of left) if (!entry.fromReady) this.owed.set(flightName(entry.flight), error);
      throw error;
    }
  }

  /** Writes and marks done a group, taking each output it settles (done or filed) out of `left`. */
  private async settleGroup(group: SettledSuccess[], left: Set<SettledSuccess>): Promise<void> {
    // Durable first: a record is never done in the store without its output in the sink.
    let written: GroupWrite;
    try {
      written = await this.deps.outputs.writeGroup(group.map((entry) => entry.document));
    } catch {
      // One output that cannot be written must not take the others with it: each goes on its own.
      for (const entry of group) await this.settleAlone(entry, left);
      return;
    }
    await this.complete(group, written, left);
  }

  /** Writes one output and marks it done; an output that cannot be written fails its record (local_error). */
  private async settleAlone(entry: SettledSuccess, left: Set<SettledSuccess>): Promise<void> {
    let written: GroupWrite;
    try {
      written = await this.deps.outputs.writeGroup([entry.document]);
    } catch (error) {
      await this.failUnsettled(entry, error, left);
      return;
    }
    await this.complete([entry], written, left);
  }

  /**
   * Fails a success that could not be settled (local_error, stage settle), its answer kept in its
   * event. A busy store passes: its error is thrown, the record left as it was (applied again).
   */
  private async failUnsettled(
    entry: SettledSuccess,
    error: unknown,
    left: Set<SettledSuccess>,
  ): Promise<void> {
    if (isPassingLocalFailure(error)) throw error;
    const { event } = entry;
    await this.settleFailure(
      settledLocalFailure({
        recordId: entry.recordId,
        lane: entry.flight.lane,
        flight: entry.fromReady ? null : entry.flight,
        attempt: entry.attempt,
        stage: 'settle',
        error,
        promptHash: entry.promptHash,
        ...(event ? { event: (failure) => unsettledEvent(event, failure) } : {}),
      }),
    );
    left.delete(entry);
  }

  /** Marks written outputs done in one transaction (successors unblocked, events logged) and reports them. */
  private async complete(
    group: readonly SettledSuccess[],
    written: GroupWrite,
    left: Set<SettledSuccess>,
  ): Promise<void> {
    const successes: RecordSuccess[] = group.map((entry, index) => ({
      recordId: entry.recordId,
      ...(entry.fromReady ? { ...flightKeys(null), ready: true } : flightKeys(entry.flight)),
      location: written.locations[index] ?? null,
      inputTokens: entry.usage.inputTokens,
      outputTokens: entry.usage.outputTokens,
      ...(entry.event ? { event: entry.event } : {}),
    }));
    try {
      await this.deps.store.completeRecords(successes, written.commit);
    } catch (error) {
      // What the sink wrote does not count (a JSONL group's lines fell inside the next commit, and
      // their records' retries committed each a second line). A busy store changed nothing and
      // passes: the records stay in flight and are applied again, each flight's caller told (see
      // settlePending). Any other store failure fails each record as an unwritable output does; it
      // used to reach the lane with the group dropped, and ended a batch run.
      await this.deps.outputs.discardGroup(written);
      for (const entry of group) await this.failUnsettled(entry, error, left);
      return;
    }
    for (const entry of group) left.delete(entry);
    for (const [index, success] of successes.entries()) {
      const lane = group[index]?.flight.lane;
      this.deps.emit({
        type: 'record-done',
        recordId: success.recordId,
        jobId: success.jobId,
        ...(success.requestId ? { requestId: success.requestId } : {}),
        ...(lane ? { lane } : {}),
        ...(success.event ? { event: success.event } : {}),
      });
    }
  }

  /** Runs `work` after everything queued before it; a failure reaches its caller and does not block the queue. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** The flight whose caller settles an output: its batch job or its synchronous request. */
function flightName(flight: Flight): string {
  return flight.lane === 'batch' ? `job ${flight.jobId}` : `request ${flight.requestId}`;
}
