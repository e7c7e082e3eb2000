import { learnedTurnaroundMs, stallThresholdMs, type StallPolicy } from '../lanes/batch/stall-policy.js';
import type { Lane } from '../lanes/lane.js';
import { MODE_LANE, type ExecutionMode } from '../scheduler/lane-policy.js';
import { modelPrices, type LanePrice, type PriceList } from '../pricing/index.js';
import type { AttemptGroup } from '../store/event-log.js';
import type { ChainCounts, JobRow, RecordCounts, UsageTotal } from '../store/store.js';
import { unansweredRequests } from '../telemetry/unanswered-calls.js';

/** Google's target turnaround for a batch job; a job older than this is flagged as stalled. */
export const BATCH_TARGET_TURNAROUND_MS = 24 * 60 * 60 * 1000;
/** Throughput is measured over at most this much recent history. */
export const THROUGHPUT_WINDOW_MS = 24 * 60 * 60 * 1000;

const ACTIVE_STATES = new Set<JobRow['state']>(['intent', 'pending', 'running', 'succeeded']);

/** One job that is not finished yet. */
export interface ActiveJobStatus {
  id: string;
  remoteName: string | null;
  lane: Lane;
  state: JobRow['state'];
  /** Requests in the job: fewer than its records when they are grouped (`records_per_request`). */
  requests: number;
  /** Records the job carries. */
  records: number;
  createdAt: string;
  ageMs: number;
  /** Older than the stall threshold: `execution.stall_*` over the learned turnaround (24 h before any was learned). */
  stalled: boolean;
}

/**
 * The workload at a glance: `wavebatch status --json` prints exactly this object. Its shape is
 * stable (documented in the README): keys are only ever added, never renamed or removed.
 */
export interface WorkloadStatus {
  workload: string;
  configPath: string;
  /** ISO time the status was taken. */
  at: string;
  records: {
    total: number;
    done: number;
    inFlight: number;
    ready: number;
    blocked: number;
    dead: number;
    /** Blocked records that wait behind a dead letter in their chain (they cannot run until requeued). */
    behindDeadLetters: number;
  };
  chains: { total: number; done: number; inProgress: number; notStarted: number; blocked: number };
  activeJobs: ActiveJobStatus[];
  lanes: Partial<Record<Lane, { activeJobs: number; requests: number; records: number; stalled: number }>>;
  /** Tokens of the records wavebatch completed (their successful requests). */
  usage: { completedRecords: number; inputTokens: number; outputTokens: number };
  /**
   * Every request billed so far, failed ones included (invalid JSON, truncation and safety blocks are
   * billed too), per lane, from the inference log; null when the log holds no attempt.
   */
  billed: {
    requests: number;
    inputTokens: number;
    outputTokens: number;
    costUsd: number;
    /**
     * Calls among `requests` that brought no answer (given up at the timeout, or cut off half-way):
     * Google may bill them, at a price wavebatch could not know, so `costUsd` is a floor while any.
     */
    unknownCostRequests: number;
    byLane: Partial<
      Record<Lane, { requests: number; inputTokens: number; outputTokens: number; costUsd: number }>
    >;
  } | null;
  cost: {
    currency: 'USD';
    model: string;
    lane: Lane;
    /**
     * What was billed so far: `billed.costUsd` when the inference log has it, else the cost of the
     * completed records' tokens (`basis` says which); null when the price list does not know the model.
     */
    soFar: number | null;
    basis: 'inference-log' | 'completed-records';
    /** soFar plus the average cost of a completed record times the records still to run; null until one completed. */
    projected: number | null;
    priceListAsOf: string;
  };
  throughput: {
    /** Records completed per hour over the measured window; null before any completed. */
    recordsPerHour: number | null;
    windowMs: number;
    /** Median time from a job's creation to its results being applied; null before a job was processed. */
    jobTurnaroundMs: number | null;
  };
  eta: {
    /** Records that can still run: not done, not dead, not behind a dead letter. */
    remainingRecords: number;
    /** Longest chain still to go: each of its records needs a job round trip of its own. */
    longestChain: number;
    /** Estimated time to finish; 0 when nothing is left, null when there is no history to estimate from. */
    remainingMs: number | null;
    /** ISO time of the estimated finish, or null. */
    finishAt: string | null;
  };
  /** Outputs made by another prompt version, model or input; null unless asked for (`status --stale`). */
  staleOutputs: number | null;
  failures: { total: number; byCause: Array<{ cause: string; count: number }> };
}

/** What the store and config know, gathered by the service for `summarizeStatus`. */
export interface StatusFacts {
  workload: string;
  configPath: string;
  model: string;
  /** `execution.mode`: the lane the projection prices what is left on (auto: batch, the cheapest). */
  mode?: ExecutionMode;
  counts: RecordCounts;
  chains: ChainCounts;
  /** Every job in creation order. */
  jobs: readonly JobRow[];
  usage: { short: UsageTotal; long: UsageTotal };
  /** Records completed since `windowStart`. */
  completedInWindow: number;
  windowStart: number;
  longestChain: number;
  priceList: PriceList;
  failureCauses: Array<{ cause: string; count: number }>;
  /** The inference log's attempts, grouped (every run). */
  attempts: readonly AttemptGroup[];
  /**
   * The run's stall policy: an active job older than `factor` times the learned turnaround is
   * flagged stalled. Without one, a job is stalled past Google's 24-hour target.
   */
  stallPolicy?: StallPolicy;
}

/** Pure: the status of a workload from its facts at time `now` (ms). */
export function summarizeStatus(facts: StatusFacts, now: number): WorkloadStatus {
  // A realtime workload's records are left to go at standard prices, a Flex one's at Flex prices:
  // priced at batch prices, and labelled so, a realtime projection came out at half its cost.
  const lane: Lane = facts.mode === undefined || facts.mode === 'auto' ? 'batch' : MODE_LANE[facts.mode];
  const { counts, chains } = facts;
  // One turnaround, learned as the run's stall watch learns it (jobs still out count as lasting at
  // least their age), for the stall flags, the figure shown and the ETA: the median of the finished
  // jobs alone is the fast ones early in a run, and an ETA from it came out short by their bias.
  const jobTurnaroundMs = learnedTurnaroundMs(facts.jobs, now);
  const stalledAfterMs = facts.stallPolicy
    ? stallThresholdMs(jobTurnaroundMs, facts.stallPolicy)
    : BATCH_TARGET_TURNAROUND_MS;
  const activeJobs = facts.jobs
    .filter((job) => ACTIVE_STATES.has(job.state))
    .map((job): ActiveJobStatus => {
      const ageMs = Math.max(0, now - Date.parse(job.createdAt));
      return {
        id: job.id,
        remoteName: job.remoteName,
        lane,
        state: job.state,
        requests: job.requestCount,
        records: job.recordCount,
        createdAt: job.createdAt,
        ageMs,
        stalled: ageMs > stalledAfterMs,
      };
    });
  const lanes: WorkloadStatus['lanes'] = {};
  for (const job of activeJobs) {
    const entry = (lanes[job.lane] ??= { activeJobs: 0, requests: 0, records: 0, stalled: 0 });
    entry.activeJobs++;
    entry.requests += job.requests;
    entry.records += job.records;
    if (job.stalled) entry.stalled++;
  }

  const completed = facts.usage.short.records + facts.usage.long.records;
  const price = modelPrices(facts.priceList, facts.model)?.[lane] ?? null;
  const billed = billedAttempts(facts.attempts);
  const soFar = price === null ? null : billed ? billed.costUsd : usageCost(price, facts.usage);
  const remainingRecords = Math.max(
    0,
    counts.total - counts.done - counts.dead - chains.recordsBehindDeadLetters,
  );
  const projected = soFar !== null && completed > 0 ? soFar + (soFar / completed) * remainingRecords : null;

  const windowMs = Math.max(0, now - facts.windowStart);
  const recordsPerHour =
    facts.completedInWindow > 0 && windowMs > 0 ? (facts.completedInWindow / windowMs) * 3_600_000 : null;
  const remainingMs = estimateRemaining(
    remainingRecords,
    facts.longestChain,
    recordsPerHour,
    jobTurnaroundMs,
  );

  return {
    workload: facts.workload,
    configPath: facts.configPath,
    at: new Date(now).toISOString(),
    records: {
      total: counts.total,
      done: counts.done,
      inFlight: counts.in_flight,
      ready: counts.ready,
      blocked: counts.blocked,
      dead: counts.dead,
      behindDeadLetters: chains.recordsBehindDeadLetters,
    },
    chains: {
      total: chains.total,
      done: chains.done,
      inProgress: chains.inProgress,
      notStarted: chains.notStarted,
      blocked: chains.blocked,
    },
    activeJobs,
    lanes,
    usage: {
      completedRecords: completed,
      inputTokens: facts.usage.short.inputTokens + facts.usage.long.inputTokens,
      outputTokens: facts.usage.short.outputTokens + facts.usage.long.outputTokens,
    },
    billed,
    cost: {
      currency: 'USD',
      model: facts.model,
      lane,
      soFar,
      basis: billed ? 'inference-log' : 'completed-records',
      projected,
      priceListAsOf: facts.priceList.asOf,
    },
    throughput: { recordsPerHour, windowMs, jobTurnaroundMs },
    eta: {
      remainingRecords,
      longestChain: facts.longestChain,
      remainingMs,
      finishAt: remainingMs === null ? null : new Date(now + remainingMs).toISOString(),
    },
    staleOutputs: null,
    failures: {
      total: facts.failureCauses.reduce((sum, entry) => sum + entry.count, 0),
      byCause: facts.failureCauses,
    },
  };
}

/** Sums of the attempts that were sent (not records rejected before sending), in all and per lane. */
function billedAttempts(groups: readonly AttemptGroup[]): WorkloadStatus['billed'] {
  const sent = groups.filter((group) => group.type !== 'rejected');
  if (sent.length === 0) return null;
  const billed: NonNullable<WorkloadStatus['billed']> = {
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    unknownCostRequests: unansweredRequests(sent),
    byLane: {},
  };
  for (const group of sent) {
    const entry = (billed.byLane[group.lane] ??= {
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    });
    for (const sum of [billed, entry]) {
      sum.requests += group.requests;
      sum.inputTokens += group.inputTokens ?? 0;
      sum.outputTokens += group.outputTokens ?? 0;
      sum.costUsd += group.costUsd;
    }
  }
  return billed;
}

/** USD of the summed usage: records above the long-context threshold at the long-context rates. */
function usageCost(price: LanePrice, usage: { short: UsageTotal; long: UsageTotal }): number {
  const long = price.longContext ?? price;
  const usd =
    usage.short.inputTokens * price.input +
    usage.short.outputTokens * price.output +
    usage.long.inputTokens * long.input +
    usage.long.outputTokens * long.output;
  return usd / 1_000_000;
}

/**
 * The later of two bounds: width (records left at the measured rate) and depth (the longest chain
 * left, one job round trip per record, since a page cannot be sent before its predecessor's output
 * is back). Either alone underestimates: a wide workload is rate-bound, a deep one turnaround-bound.
 */
function estimateRemaining(
  remainingRecords: number,
  longestChain: number,
  recordsPerHour: number | null,
  turnaroundMs: number | null,
): number | null {
  if (remainingRecords === 0) return 0;
  const width = recordsPerHour ? (remainingRecords / recordsPerHour) * 3_600_000 : null;
  const depth = turnaroundMs !== null && longestChain > 0 ? longestChain * turnaroundMs : null;
  if (width === null && depth === null) return null;
  return Math.round(Math.max(width ?? 0, depth ?? 0));
}
