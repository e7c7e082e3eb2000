import type { RunnerClock } from '../clock.js';
import { SYNC_LANES, type Lane, type SyncLane } from '../lanes/lane.js';
import {
  addChunk,
  endsRound,
  roundChunkRecords,
  type SubmissionRound,
} from '../lanes/batch/job-submission.js';
import type { LaneLimiters } from '../lanes/sync/lane-limiters.js';
import type { SyncLaneDriver } from '../lanes/sync/sync-lane.js';
import { modelLimits, modelPrices, type PriceList } from '../pricing/index.js';
import {
  chooseLanes,
  drainMs,
  type ExecutionMode,
  type LaneDecision,
  type LaneRoom,
  type LatencyTracker,
  type ReadyRecord,
} from '../scheduler/index.js';
import { ACTIVE_JOB_STATES, type StoredRecord, type WorkloadStore } from '../store/store.js';
import type { RunnerEventListener } from './events.js';
import { InFlightJobs } from './in-flight-jobs.js';
import type { RecordRequestBuilder } from './record-request.js';
import {
  BatchGroupPricing,
  ESTIMATE_MARGIN,
  inputTokensOf,
  keepPriced,
  NO_TOKENS,
  PRICED_KEPT,
  priceKey,
  sentCost,
  type InputTokens,
} from './request-pricing.js';
import type { RunnerSettings } from './settings.js';
import { meanOutputTokens } from '../telemetry/unanswered-calls.js';

/**
 * The records still to send that the cost cap reserves for (blocked, ready) are counted again at
 * most this often (a count is a scan of the records, and a round runs at every synchronous answer).
 * Older counts overstate the reserve: records leave `blocked` and `ready` as the run goes.
 */
const BLOCKED_RECOUNT_MS = 1_000;

/**
 * The chains still to run, by depth, are counted again at most this often: a count reads the status
 * index's ready and in-flight entries (a flat million-record backlog is a million of them), and the
 * shape changes by a round's records at a time.
 */
const CHAIN_DEPTHS_RECOUNT_MS = 5_000;

/**
 * Output tokens per request assumed until the run has billed some, when no earlier run of the
 * workload billed the model and prompt either (what `wavebatch estimate` assumes).
 */
export const ASSUMED_OUTPUT_TOKENS = 500;

export interface LaneDispatchDeps {
  store: Pick<
    WorkloadStore,
    | 'listReady'
    | 'listJobs'
    | 'runUsage'
    | 'attemptGroups'
    | 'longestRunnableChain'
    | 'runnableChainDepths'
    | 'counts'
    | 'jobMembers'
  >;
  requests: RecordRequestBuilder;
  sync: SyncLaneDriver;
  limiters: LaneLimiters;
  prices: PriceList;
  settings: RunnerSettings;
  latency: LatencyTracker;
  clock: RunnerClock;
  emit: RunnerEventListener;
  runId: () => number | null;
  /** Epoch ms the run must be done by, or null. */
  deadline: () => number | null;
  /** The batch lane's submission round, over these ready records only when given (`moreReady`: more may follow them). */
  submitBatch: (records?: readonly StoredRecord[], moreReady?: boolean) => Promise<SubmissionRound>;
  /** The enqueued-token budget batch jobs are packed to now (learnt, see enqueued-token-budget.ts); default the configured one. */
  batchTokenBudget?: () => number;
}

/** One dispatch round: what the batch lane did, and whether the cost cap holds records back with nothing in flight to free it. */
export interface DispatchRound extends SubmissionRound {
  /** Records held by `execution.max_cost` this round. */
  heldByCost: number;
  /** The least any of them alone would cost: above max_cost, no run can send them at this cap. */
  cheapestHeldUsd?: number;
}

/**
 * The lane-neutral step of the run loop: which ready records go to which lane this round, and
 * sending them. `execution.mode: batch` without a cost cap is the batch lane's own round, unchanged;
 * every other mode prices the ready records, asks the scheduler (`chooseLanes`, the one policy for
 * every mode: it also enforces `max_cost`) and hands batch decisions to the batch submission and
 * synchronous ones to the sync lane driver.
 */
export class LaneDispatch {
  /**
   * The decision last logged for each record (`decisionKey`), so a record decided again and again
   * the same way is logged once: a record held round after round, or one whose batch job create was
   * refused (429) and that comes back ready at every poll (524 debug lines for 18 records).
   */
  private readonly logged = new Map<string, string>();
  /**
   * Input tokens of ready records already priced: the loop runs a round at every synchronous
   * answer, and a record that stays ready (waiting for room) is not built again each time.
   */
  private readonly inputTokens = new Map<string, InputTokens>();
  /** The grouped requests the batch lane would send them in (`records_per_request` > 1). */
  private readonly groups: BatchGroupPricing;
  /** Records of stalled batch jobs cancelled in `auto`: sent on a synchronous lane when ready again. */
  private readonly hedged = new Set<string>();
  /** Records whose last request on a synchronous lane timed out in `auto`: sent on another lane next. */
  private readonly timedOutOn = new Map<string, SyncLane>();
  /** The last count of records still to send (blocked or ready), and when (the clock's ms) it was taken. */
  private waiting = { count: 0, at: Number.NEGATIVE_INFINITY };
  /** The last count of chains still to run by depth, and when it was taken. */
  private chainDepths: { depths: Map<number, number>; at: number } = {
    depths: new Map(),
    at: Number.NEGATIVE_INFINITY,
  };

  /** The batch jobs in flight, priced request by request for the cost cap. */
  private readonly inFlightJobs: InFlightJobs;

  constructor(private readonly deps: LaneDispatchDeps) {
    this.inFlightJobs = new InFlightJobs(deps.store);
    this.groups = new BatchGroupPricing({
      requests: deps.requests,
      recordsPerRequest: deps.settings.recordsPerRequest,
      alone: (record) => this.inputTokens.get(priceKey(record)),
    });
  }

  private get mode(): ExecutionMode {
    return this.deps.settings.execution.mode;
  }

  /**
   * Records whose stalled batch job was cancelled: once the cancel is confirmed and they are ready
   * again, `auto` sends them on a synchronous lane instead of another batch job.
   */
  hedge(recordIds: readonly string[]): void {
    if (this.mode !== 'auto') return;
    for (const id of recordIds) this.hedged.add(id);
  }

  /**
   * A record whose request on `lane` got no answer within the lane's timeout: in `auto` it goes on
   * another lane when ready again (by Batch at the same price, for Flex), not into another call that
   * may be billed and time out again.
   */
  timedOut(recordId: string, lane: SyncLane): void {
    if (this.mode === 'auto') this.timedOutOn.set(recordId, lane);
  }

  /**
   * Sends what is ready into the lanes' free room, a chunk of ready records at a time as the batch
   * lane's own rounds (roundChunkRecords): pricing builds each record's request, and room for a
   * hundred jobs of 5,000 would otherwise list and build half a million records at once.
   */
  async round(): Promise<DispatchRound> {
    const { settings } = this.deps;
    if (this.mode === 'batch' && settings.execution.maxCostUsd === null)
      return { ...(await this.deps.submitBatch()), heldByCost: 0 };
    const perJob = settings.maxRequestsPerJob * settings.recordsPerRequest;
    const total: DispatchRound = { submitted: 0, quotaRetryDelayMs: null, deferred: [], heldByCost: 0 };
    for (;;) {
      const chunk = roundChunkRecords(perJob, this.deps.requests.meanRecordBytes);
      const { round, listed, limit } = await this.dispatchChunk(chunk);
      addChunk(total, round);
      // Held records stay ready, so the next chunk lists them again: the most held at once, not a sum.
      total.heldByCost = Math.max(total.heldByCost, round.heldByCost);
      if (round.cheapestHeldUsd !== undefined)
        total.cheapestHeldUsd = Math.min(total.cheapestHeldUsd ?? Infinity, round.cheapestHeldUsd);
      if (endsRound(round, listed, limit)) return total;
    }
  }

  /** One chunk: up to `chunk` ready records priced, decided and sent; with how many were listed of how many asked. */
  private async dispatchChunk(
    chunk: number,
  ): Promise<{ round: DispatchRound; listed: number; limit: number }> {
    const { settings, sync, store } = this.deps;
    const batchRoom = this.mode === 'batch' || this.mode === 'auto' ? await this.batchRoom() : 0;
    const syncFree =
      this.mode === 'batch' ? 0 : Math.max(0, settings.execution.syncConcurrency - sync.inFlight);
    const limit = Math.min(batchRoom + syncFree, chunk);
    const idle = {
      round: { submitted: 0, quotaRetryDelayMs: null, deferred: [], heldByCost: 0 },
      listed: 0,
      limit,
    };
    if (limit <= 0) return idle;
    const ready = await store.listReady(limit);
    if (ready.length === 0) return idle;
    const priced = await this.price(ready);
    // Read after pricing (which awaits builds), right before deciding: answers settle meanwhile.
    const committedUsd = await this.committedUsd();
    const deadline = this.deps.deadline();
    const decisions: LaneDecision[] = chooseLanes({
      mode: this.mode,
      now: this.deps.clock.now(),
      deadline,
      ready: priced,
      longestRemaining: await store.longestRunnableChain(),
      // `auto` weighs what it would send to Flex (without a deadline, the chains' records it would
      // leave Flex; records hedged off stalled batch jobs) against Flex's quota.
      ...(this.mode === 'auto' ? { flexDrainMs: this.flexDrain(ready) } : {}),
      ...(this.mode === 'auto' && deadline === null ? { chains: await this.runnableChainDepths() } : {}),
      latency: this.deps.latency.estimates(),
      room: this.room(batchRoom, syncFree),
      syncSlots: syncFree,
      budget: {
        maxCostUsd: settings.execution.maxCostUsd,
        committedUsd,
        reservedUsd: await this.reservedUsd(priced),
      },
    });
    const cap = settings.execution.maxCostUsd;
    const batchPrice = modelPrices(this.deps.prices, settings.model)?.batch;
    if (cap !== null && settings.recordsPerRequest > 1 && batchPrice)
      await this.groups.holdToCap(decisions, ready, {
        capUsd: cap,
        committedUsd,
        price: batchPrice,
        outputTokens: await this.outputTokensPerRequest(),
      });
    this.log(decisions, ready);
    for (const decision of decisions)
      if (decision.lane !== null) {
        this.hedged.delete(decision.recordId);
        this.timedOutOn.delete(decision.recordId);
      }
    const costs = new Map(decisions.map((decision) => [decision.recordId, decision.costUsd]));
    const byLane = groupByLane(decisions);
    let round: SubmissionRound = { submitted: 0, quotaRetryDelayMs: null, deferred: [] };
    const toBatch = ready.filter((record) => byLane.batch.has(record.id));
    // A full chunk may have more ready records behind it: the batch lane then keeps an open last job
    // for the next chunk rather than sending it part-empty.
    if (toBatch.length > 0) round = await this.deps.submitBatch(toBatch, ready.length === limit);
    for (const lane of SYNC_LANES) {
      const ids = [...byLane[lane]];
      if (ids.length > 0) await sync.send(lane, ids, (id) => costs.get(id) ?? 0);
    }
    const heldForCost = decisions.filter((decision) => decision.reason === 'max_cost');
    const heldForUsd = heldForCost.map((decision) => decision.heldForUsd ?? 0);
    return {
      round: {
        ...round,
        heldByCost: heldForCost.length,
        ...(heldForUsd.length > 0 ? { cheapestHeldUsd: Math.min(...heldForUsd) } : {}),
      },
      listed: ready.length,
      limit,
    };
  }

  /**
   * The half price of every record still to send that is not among the priced ones (blocked behind
   * its chain, or ready beyond what this round lists: its free batch and synchronous room), priced
   * like the priced ones on average: what paying for speed now must leave for them. Reserving for the
   * blocked ones alone let a round whose lanes had room for 6 of 30 ready records spend the other
   * 24's share on standard, and the run ended with them held by the cap.
   */
  private async reservedUsd(priced: readonly ReadyRecord[]): Promise<number> {
    if (this.deps.settings.execution.maxCostUsd === null || priced.length === 0) return 0;
    const cheap = priced.reduce((sum, record) => sum + Math.min(record.cost.batch, record.cost.flex), 0);
    const unpriced = Math.max(0, (await this.recordsToSend()) - priced.length);
    return (unpriced * cheap) / priced.length;
  }

  /** Records still to send (blocked behind their chains, or ready), counted at most every BLOCKED_RECOUNT_MS. */
  private async recordsToSend(): Promise<number> {
    const now = this.deps.clock.now();
    if (now - this.waiting.at >= BLOCKED_RECOUNT_MS) {
      const counts = await this.deps.store.counts();
      this.waiting = { count: counts.blocked + counts.ready, at: now };
    }
    return this.waiting.count;
  }

  /** Chains still to run by records left, counted at most every CHAIN_DEPTHS_RECOUNT_MS. */
  private async runnableChainDepths(): Promise<Map<number, number>> {
    const now = this.deps.clock.now();
    if (now - this.chainDepths.at >= CHAIN_DEPTHS_RECOUNT_MS)
      this.chainDepths = { depths: await this.deps.store.runnableChainDepths(), at: now };
    return this.chainDepths.depths;
  }

  /**
   * How long Flex takes to start a number of requests: the model's Flex quota (the config's
   * `limits:` applied) less what the last 24 hours used, the ready records' mean input tokens, and
   * `sync_concurrency` requests open at once for Flex's learned typical latency.
   */
  private flexDrain(ready: readonly StoredRecord[]): (records: number) => number {
    const { prices, settings, latency, limiters } = this.deps;
    let tokens = 0;
    let priced = 0;
    for (const record of ready) {
      const input = this.inputTokens.get(priceKey(record));
      if (input === undefined) continue;
      tokens += input.tokens;
      priced += 1;
    }
    const limits = modelLimits(prices, settings.model).flex;
    const bounds = {
      open: { slots: settings.execution.syncConcurrency, typicalMs: latency.estimate('flex').typicalMs },
      usedToday: limiters.for(settings.model, 'flex').state(this.deps.clock.now()).dayRequests,
    };
    return (records) => drainMs(records, priced > 0 ? tokens / priced : 0, limits, bounds);
  }

  /**
   * Every decision of `auto` is logged with its reason, a held record in any mode: each when it
   * changes (another lane or reason, or a new attempt of the record after one settled), not at every
   * round that decides it the same way again. A new attempt is logged again because the lane tally
   * counts each settled attempt by the reason last logged for its record.
   */
  private log(decisions: readonly LaneDecision[], ready: readonly StoredRecord[]): void {
    const attempts = new Map(ready.map((record) => [record.id, record.attempts]));
    for (const decision of decisions) {
      if (decision.lane !== null && this.mode !== 'auto') {
        // Not logged; a record held again later is.
        this.logged.delete(decision.recordId);
        continue;
      }
      const key = decisionKey(decision, attempts.get(decision.recordId) ?? 0);
      if (this.logged.get(decision.recordId) === key) continue;
      // Bounded as the priced figures are: a huge backlog may log a decision twice, never grow memory.
      if (this.logged.size >= PRICED_KEPT) this.logged.clear();
      this.logged.set(decision.recordId, key);
      this.deps.emit({
        type: 'lane-decision',
        recordId: decision.recordId,
        lane: decision.lane,
        reason: decision.reason,
        explanation: decision.explanation,
        costUsd: decision.costUsd,
      });
    }
  }

  /** Records the batch lane can take now: free job slots times requests per job times records per request. */
  private async batchRoom(): Promise<number> {
    const { settings } = this.deps;
    const active = await this.deps.store.listJobs(ACTIVE_JOB_STATES);
    const usedTokens = active.reduce((sum, job) => sum + job.estimatedTokens, 0);
    if (usedTokens >= (this.deps.batchTokenBudget?.() ?? settings.enqueuedTokenBudget)) return 0;
    const perJob = settings.maxRequestsPerJob * settings.recordsPerRequest;
    return Math.max(0, settings.maxConcurrentJobs - active.length) * perJob;
  }

  private room(batchRoom: number, syncFree: number): Record<Lane, LaneRoom> {
    const { limiters, settings } = this.deps;
    const room = { batch: { usable: true, slots: batchRoom } } as Record<Lane, LaneRoom>;
    for (const lane of SYNC_LANES)
      room[lane] = {
        usable: limiters.for(settings.model, lane).usable,
        // A resting lane (its API kept failing) takes nothing this round, and a lane no more than its
        // rate limiter starts within a minute (a request beyond it would wait there, a day once the
        // day's quota is used up).
        slots: this.deps.sync.resting(lane)
          ? 0
          : Math.min(syncFree, limiters.for(settings.model, lane).headroom(this.deps.clock.now())),
        resting: this.deps.sync.resting(lane),
      };
    return room;
  }

  /**
   * Each ready record's estimated cost on every lane, from its built request and the run's mean
   * output. With `records_per_request` the batch lane sends a group's instructions once: there a
   * record costs its share of its group's request, as `wavebatch estimate` prices it, while the
   * synchronous lanes send it as a group of one. The group is priced whole, as the API bills it:
   * priced on each record's share of its tokens, a group over the long-context threshold that no
   * record reached alone was counted at the lower rates, and the cap let through a bill past it.
   */
  private async price(ready: readonly StoredRecord[]): Promise<ReadyRecord[]> {
    const { requests, prices, settings } = this.deps;
    const laneprices = modelPrices(prices, settings.model);
    const output = await this.outputTokensPerRequest();
    const out: ReadyRecord[] = [];
    // Once per record per pass: a synchronous run prices its ready records at every answer.
    const keys = ready.map(priceKey);
    requests.beginRound();
    try {
      await requests.prefetchContexts(
        ready.filter((_, index) => !this.inputTokens.has(keys[index] as string)),
      );
      const grouped = settings.recordsPerRequest > 1 ? await this.groups.byRecord(ready) : null;
      for (const [index, record] of ready.entries()) {
        const key = keys[index] as string;
        let input = this.inputTokens.get(key) ?? NO_TOKENS;
        if (!this.inputTokens.has(key)) {
          try {
            input = inputTokensOf(await requests.build(record), 1);
            keepPriced(this.inputTokens, key, input);
          } catch {
            // Unbuildable: the lane that takes it finds out and fails or releases it; nothing is billed.
          }
        }
        const cost = { batch: 0, flex: 0, standard: 0, priority: 0 };
        if (laneprices && input.tokens > 0)
          for (const lane of Object.keys(cost) as Lane[]) {
            const sent = lane === 'batch' ? (grouped?.get(key) ?? input) : input;
            cost[lane] = sentCost(laneprices[lane], sent, output) / sent.records;
          }
        const avoid = this.timedOutOn.get(record.id);
        out.push({
          id: record.id,
          remaining: Math.max(1, record.remaining),
          cost,
          ...(this.hedged.has(record.id) ? { hedged: true } : {}),
          ...(avoid === undefined ? {} : { avoid }),
        });
      }
    } finally {
      requests.endRound();
    }
    return out;
  }

  /**
   * Mean billed output of this run's attempts; before there is any, of the workload's earlier
   * attempts of the same model and prompt; the assumption before those. Priced at the assumption, a
   * second run under a tight `max_cost` held back most of its first round for outputs it had
   * already seen were a fifth as long.
   */
  private async outputTokensPerRequest(): Promise<number> {
    const runId = this.deps.runId();
    if (runId !== null) {
      const mean = meanOutputTokens(await this.deps.store.attemptGroups(runId));
      if (mean !== null) return mean;
    }
    if (this.earlierOutput?.runId !== runId)
      this.earlierOutput = { runId, tokens: await this.earlierOutputTokensPerRequest() };
    return this.earlierOutput.tokens;
  }

  /** Read once a run (which run): its own attempts take over as soon as it has any. */
  private earlierOutput: { runId: number | null; tokens: number } | undefined;

  private async earlierOutputTokensPerRequest(): Promise<number> {
    const { model, prompt } = this.deps.settings;
    const groups = await this.deps.store.attemptGroups();
    const same = groups.filter((group) => group.model === model && group.promptName === prompt.name);
    return meanOutputTokens(same) ?? ASSUMED_OUTPUT_TOKENS;
  }

  /** What was spent and out in batch jobs at the last round's count: mayCommit adds the live requests to it. */
  private settledUsd = 0;

  /**
   * Estimates of the synchronous calls given up at their timeout in a run (which run): Google may
   * bill them, yet no attempt's cost counts them, so the cap counts them here.
   */
  private abandonedCalls = { runId: null as number | null, usd: 0 };

  /** A synchronous call given up at its timeout, at its estimate: spent, for the cap, for the rest of the run. */
  abandoned(estimatedUsd: number): void {
    this.abandonedCalls.usd = this.abandonedUsd() + estimatedUsd;
  }

  /** What this run's abandoned calls are counted at (a new run starts from nothing, as its cap does). */
  private abandonedUsd(): number {
    const runId = this.deps.runId();
    if (this.abandonedCalls.runId !== runId) this.abandonedCalls = { runId, usd: 0 };
    return this.abandonedCalls.usd;
  }

  /**
   * Whether `extraUsd` more may be committed now without crossing `execution.max_cost` (always, with
   * no cap): the last round's spent and batch figure plus what the synchronous requests have in
   * flight now, which grows as they are billed.
   */
  mayCommit(extraUsd: number): boolean {
    const cap = this.deps.settings.execution.maxCostUsd;
    return (
      cap === null ||
      this.settledUsd + this.abandonedUsd() + this.deps.sync.committedUsd + extraUsd <= cap + 1e-12
    );
  }

  /** What the run has spent plus the estimate of what is in flight (synchronous requests and active batch jobs). */
  private async committedUsd(): Promise<number> {
    const { store, prices, settings, sync } = this.deps;
    // In flight first, spent second: a request that settles in between (its estimate dropped, its
    // cost logged) is then counted twice, never not at all.
    const inFlight = sync.committedUsd;
    const batchPrice = modelPrices(prices, settings.model)?.batch;
    const jobs = batchPrice
      ? (await this.inFlightJobs.costUsd(
          await store.listJobs(ACTIVE_JOB_STATES),
          batchPrice,
          await this.outputTokensPerRequest(),
        )) * ESTIMATE_MARGIN
      : 0;
    const runId = this.deps.runId();
    const spent = runId === null ? 0 : (await store.runUsage(runId)).costUsd;
    this.settledUsd = spent + jobs;
    return spent + inFlight + jobs + this.abandonedUsd();
  }
}

/**
 * The decisions by lane. The policy already keeps the synchronous ones within the free concurrency
 * (one pool for the three lanes), so every logged decision is sent.
 */
function groupByLane(decisions: readonly LaneDecision[]): Record<Lane, Set<string>> {
  const byLane: Record<Lane, Set<string>> = {
    batch: new Set(),
    flex: new Set(),
    standard: new Set(),
    priority: new Set(),
  };
  for (const decision of decisions) if (decision.lane !== null) byLane[decision.lane].add(decision.recordId);
  return byLane;
}

/** What makes two decisions for a record the same one: its attempt, lane and reason. */
function decisionKey(decision: LaneDecision, attempts: number): string {
  return `${attempts} ${decision.lane ?? 'held'} ${decision.reason}`;
}
