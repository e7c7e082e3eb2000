import type { Lane, SyncLane } from '../lanes/lane.js';
import type { RequestLimits } from '../pricing/index.js';
import type { LaneLatency } from './latency.js';
import { autoTarget, batchSteps, flexWaves } from './auto-target.js';
import { drainMs, type OpenRequests } from './lane-drain.js';

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
  /** Requests the synchronous lanes may have open at once (`execution.sync_concurrency`); omitted: no limit. */
  syncConcurrency?: number;
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
 * rate (requests and tokens per minute, requests per day, and the requests it may have open at
 * once, `syncConcurrency`, when given) bounds how fast the width goes through.
 */
export function projectSync(
  shape: WorkloadShape,
  limits: RequestLimits,
  latency: LaneLatency,
  lane: SyncLane,
  syncConcurrency?: number,
): Projection {
  if (shape.records === 0) return empty(lane);
  const available = limits.rpm > 0 && limits.tpm > 0 && limits.rpd !== 0;
  const deepest = deepestChain(shape);
  const drain = drainMs(shape.records, shape.inputTokensPerRequest, limits, {
    open: openRequests(syncConcurrency, latency),
  });
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
 * Auto without a deadline, as the scheduler plays it: every chain within the target `autoTarget`
 * sets (the critical path on Flex, or longer when Flex's rate cannot carry what that would leave
 * it), its first records by Batch as long as the rest still ends in time on Flex, the rest on Flex,
 * and the batch steps Batch's jobs cannot hold in that time on Flex too. The scheduler plans against
 * the slow (90th-percentile) figures and plans again every round with what it learnt, so the range
 * runs from the plan for typical turnarounds played at typical speed to the plan for slow ones
 * played at slow speed; each is the slowest of its chains, Flex's rate over its records (each wave
 * of them from when its chains' batch steps are done), and the batch side's waves. The split shown
 * is the slow plan's, the one a run starts with.
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
  const slow = playAuto(shape, capacity, latency);
  const typical = playAuto(shape, capacity, asTypical(latency));
  return {
    available: true,
    rounds: deepestChain(shape),
    timeMs: { low: typical.makespanMs, high: slow.makespanMs },
    recordsByLane: {
      ...(slow.batchRecords > 0 ? { batch: slow.batchRecords } : {}),
      ...(slow.flexRecords > 0 ? { flex: slow.flexRecords } : {}),
    },
  };
}

/** Every lane's slow figure replaced by its typical one. */
function asTypical(latency: Record<Lane, LaneLatency>): Record<Lane, LaneLatency> {
  const typical = { ...latency };
  for (const lane of Object.keys(typical) as Lane[])
    typical[lane] = { typicalMs: latency[lane].typicalMs, slowMs: latency[lane].typicalMs };
  return typical;
}

/** Auto's plan for these latencies, and how long it takes when every step takes the slow figure. */
function playAuto(
  shape: WorkloadShape,
  capacity: LaneCapacities,
  latency: Record<Lane, LaneLatency>,
): { makespanMs: number; batchRecords: number; flexRecords: number } {
  const flexDrain = (records: number) =>
    drainMs(records, shape.inputTokensPerRequest, capacity.sync.flex, {
      open: openRequests(capacity.syncConcurrency, latency.flex),
    });
  const plan = autoTarget({
    chains: shape.chainLengths,
    latency,
    flexDrainMs: flexDrain,
    batchPerWave: Math.max(1, Math.floor(capacity.batchRequestsInFlight)),
  });
  const batch = latency.batch.slowMs;
  const flex = latency.flex.slowMs;
  let batchRecords = 0;
  let flexRecords = 0;
  let batchWaves = 0;
  let chains = 0;
  for (const [depth, count] of shape.chainLengths) {
    const steps = batchSteps(depth, latency, plan.targetMs);
    batchRecords += steps * count;
    flexRecords += (depth - steps) * count;
    batchWaves = Math.max(batchWaves, steps);
    chains = Math.max(chains, steps * batch + (depth - steps) * flex);
  }
  // Batch steps its jobs cannot hold in time go by Flex, from the start.
  batchRecords -= plan.batchOverflow;
  flexRecords += plan.batchOverflow;
  // Flex's records start only after their chains' batch steps: each wave of them drains from there.
  let flexSide = flexRecords > 0 ? flexDrain(flexRecords) + flex : 0;
  for (const wave of flexWaves(shape.chainLengths, latency, plan.targetMs))
    flexSide = Math.max(flexSide, wave.batchSteps * batch + flexDrain(wave.records) + flex);
  const batchShape: WorkloadShape = {
    records: batchRecords,
    chainLengths: new Map(batchWaves > 0 ? [[batchWaves, 1]] : []),
    inputTokensPerRequest: shape.inputTokensPerRequest,
  };
  const batchSide = batchRecords > 0 ? projectBatch(batchShape, capacity, latency.batch).timeMs.high : 0;
  return { makespanMs: Math.max(chains, flexSide, batchSide), batchRecords, flexRecords };
}

/** The requests a synchronous lane may have open at once (`execution.sync_concurrency`), when known. */
function openRequests(syncConcurrency: number | undefined, latency: LaneLatency): OpenRequests | undefined {
  return syncConcurrency === undefined ? undefined : { slots: syncConcurrency, typicalMs: latency.typicalMs };
}

function empty(lane: Lane): Projection {
  return { available: true, rounds: 0, timeMs: { low: 0, high: 0 }, recordsByLane: { [lane]: 0 } };
}
