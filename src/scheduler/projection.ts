import type { Lane, SyncLane } from '../lanes/lane.js';
import type { RequestLimits } from '../pricing/index.js';
import type { LaneLatency } from './latency.js';

/**
 * How long a whole workload takes, and in how many rounds, when run one way: batch-only,
 * flex-only, standard-only, priority-only, or auto. Pure and coarse, for `wavebatch estimate`: the
 * two bounds that matter are the depth (a chain advances one record per round, so the deepest chain
 * needs as many rounds as it is long) and the width (a lane moves only so many records at a time:
 * Batch by its enqueued-token and job caps, a synchronous lane by its requests and tokens per minute
 * and per day). The time range runs from every round at the typical latency to every round at the
 * slow one: batch turnaround is heavy-tailed, and a round waits for its slowest job.
 */

/** The shape of the workload. */
export interface WorkloadShape {
  records: number;
  /** Chains by length: length → how many chains have it. */
  chainLengths: ReadonlyMap<number, number>;
  /** Mean estimated input tokens of one request. */
  inputTokensPerRequest: number;
}

/** What each lane can move. */
export interface LaneCapacities {
  /** Requests that can sit in queued batch jobs at once (enqueued tokens, jobs x requests per job). */
  batchRequestsInFlight: number;
  sync: Record<SyncLane, RequestLimits>;
}

/** One way of running the workload, projected. */
export interface Projection {
  /** False when the lane cannot be used (no quota in the usage tier). */
  available: boolean;
  /** Sequential rounds: batch job waves, or synchronous request generations. */
  rounds: number;
  /** Wall time from the first request to the last answer, best and worst case. */
  timeMs: { low: number; high: number };
  /** Records this way sends to each lane (auto splits; the others send all to one). */
  recordsByLane: Partial<Record<Lane, number>>;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** The longest chain. */
export function deepestChain(shape: WorkloadShape): number {
  let deepest = 0;
  for (const length of shape.chainLengths.keys()) deepest = Math.max(deepest, length);
  return deepest;
}

/**
 * Batch only: waves of jobs; a wave holds at most `batchRequestsInFlight` records and every chain
 * advances by one per wave, so waves = max(deepest chain, records / wave size), as longest-first
 * packing achieves up to rounding.
 */
export function projectBatch(shape: WorkloadShape, capacity: LaneCapacities, batch: LaneLatency): Projection {
  if (shape.records === 0) return empty('batch');
  const perWave = Math.max(1, Math.floor(capacity.batchRequestsInFlight));
  const rounds = Math.max(deepestChain(shape), Math.ceil(shape.records / perWave));
  return {
    available: capacity.batchRequestsInFlight >= 1,
    rounds,
    timeMs: { low: rounds * batch.typicalMs, high: rounds * batch.slowMs },
    recordsByLane: { batch: shape.records },
  };
}

/**
 * One synchronous lane only: each record takes the lane's latency, chains in sequence; the lane's
 * rate (requests and tokens per minute, requests per day) bounds how fast the width goes through.
 */
export function projectSync(
  shape: WorkloadShape,
  limits: RequestLimits,
  latency: LaneLatency,
  lane: SyncLane,
): Projection {
  if (shape.records === 0) return empty(lane);
  const available = limits.rpm > 0 && limits.tpm > 0 && limits.rpd !== 0;
  const deepest = deepestChain(shape);
  const drain = drainMs(shape.records, shape.inputTokensPerRequest, limits);
  return {
    available,
    rounds: deepest,
    timeMs: {
      low: available ? Math.max(deepest * latency.typicalMs, drain) : Number.POSITIVE_INFINITY,
      high: available ? Math.max(deepest * latency.slowMs, drain + latency.slowMs) : Number.POSITIVE_INFINITY,
    },
    recordsByLane: { [lane]: shape.records },
  };
}

/**
 * Auto without a deadline, as the scheduler plays it: chains too deep to afford a batch turnaround
 * go to Flex (all their records, an upper bound on Flex's share), the others to Batch whole (their
 * tails would move to Flex as they shorten, which only helps). The makespan is the slower of the
 * Flex critical path (and Flex's rate over its records) and the batch side.
 */
export function projectAuto(
  shape: WorkloadShape,
  capacity: LaneCapacities,
  latency: Record<Lane, LaneLatency>,
): Projection {
  if (shape.records === 0) return empty('flex');
  const flexLimits = capacity.sync.flex;
  const flexUsable = flexLimits.rpm > 0 && flexLimits.tpm > 0 && flexLimits.rpd !== 0;
  if (!flexUsable) return { ...projectBatch(shape, capacity, latency.batch), available: true };
  const deepest = deepestChain(shape);
  const criticalMs = latency.flex.slowMs + (deepest - 1) * latency.flex.typicalMs;
  // A chain fits on batch when a batch step plus the rest on Flex ends within the critical path.
  let flexRecords = 0;
  let batchRecords = 0;
  let batchDeepest = 0;
  for (const [length, chains] of shape.chainLengths) {
    const viaBatch = latency.batch.slowMs + (length - 1) * latency.flex.typicalMs;
    if (viaBatch <= criticalMs) {
      batchRecords += length * chains;
      batchDeepest = Math.max(batchDeepest, length);
    } else {
      flexRecords += length * chains;
    }
  }
  const drain = drainMs(flexRecords, shape.inputTokensPerRequest, flexLimits);
  const batchShape: WorkloadShape = {
    records: batchRecords,
    chainLengths: new Map(batchDeepest > 0 ? [[batchDeepest, 1]] : []),
    inputTokensPerRequest: shape.inputTokensPerRequest,
  };
  const batchSide =
    batchRecords > 0 ? projectBatch(batchShape, capacity, latency.batch).timeMs : { low: 0, high: 0 };
  const low = Math.max(deepest * latency.flex.typicalMs, drain, batchSide.low);
  const high = Math.max(deepest * latency.flex.slowMs, drain + latency.flex.slowMs, batchSide.high);
  return {
    available: true,
    rounds: deepest,
    timeMs: { low, high },
    recordsByLane: {
      ...(batchRecords > 0 ? { batch: batchRecords } : {}),
      ...(flexRecords > 0 ? { flex: flexRecords } : {}),
    },
  };
}

/** Time for a synchronous lane to start `records` requests at its limits (per minute and per day). */
function drainMs(records: number, tokensPerRequest: number, limits: RequestLimits): number {
  if (records === 0) return 0;
  const perMinute = Math.min(limits.rpm, tokensPerRequest > 0 ? limits.tpm / tokensPerRequest : limits.rpm);
  if (!(perMinute > 0)) return Number.POSITIVE_INFINITY;
  const byMinute = (records / perMinute) * MINUTE_MS;
  if (limits.rpd === null) return byMinute;
  // Whole days at the daily cap, then the rest at the minute rate.
  const fullDays = Math.floor((records - 1) / limits.rpd);
  return Math.max(byMinute, fullDays * DAY_MS + ((records - fullDays * limits.rpd) / perMinute) * MINUTE_MS);
}

function empty(lane: Lane): Projection {
  return { available: true, rounds: 0, timeMs: { low: 0, high: 0 }, recordsByLane: { [lane]: 0 } };
}
