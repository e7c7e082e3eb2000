import type { Lane } from '../lanes/lane.js';
import { chainFinishMs } from './chain-finish.js';
import type { LaneLatency } from './latency.js';

/**
 * The time `auto` plans every chain to finish within when there is no deadline. The deepest chain
 * cannot finish sooner than its records one after another on Flex (the critical path), but Flex is
 * also narrow: its requests per minute and per day, and the requests it can have open at once, bound
 * how many records it moves. A target of the critical path alone sends every chain as deep as the
 * deepest to Flex; with 50,000 chains of 20 that is a million records through a lane of 10,000
 * requests a day: 100 days, where Batch would finish in about a week.
 *
 * So the target is the shortest time T that both holds the critical path and lets Flex keep up
 * with what it is left. A chain of L records left is planned as the scheduler plays it round by
 * round: Batch steps first, as many as still let the chain end within T with the rest on Flex
 * (k batch steps when k x batch's slow turnaround + (L - k) x Flex's typical latency <= T), then
 * Flex. Flex's records of a chain can start only after its batch steps, so for every k the Flex
 * records of the chains with at least k batch steps must all be started by T - k x batch's slow
 * turnaround - one Flex answer. Batch is wide but not endless: its jobs hold so many records at a
 * time (enqueued tokens, jobs x requests per job), so the batch steps beyond what fits in T's
 * turnarounds go by Flex as well, from the start. The longer T, the more steps go by Batch and the
 * less Flex must carry; the shortest T that fits is found by bisection (every chain wholly on Batch,
 * in as many waves as its jobs need, always fits).
 */

/** Chains by the records each has left: records left -> how many chains. */
export type ChainDepths = ReadonlyMap<number, number>;

export interface AutoTargetInput {
  /** Every chain that still has records to run (ready, in flight or blocked behind them), by depth left. */
  chains: ChainDepths;
  latency: Record<Lane, LaneLatency>;
  /** How long Flex takes to start this many more requests at its limits; omitted: no limit. */
  flexDrainMs?: (records: number) => number;
  /** Records Batch's jobs hold at once (enqueued tokens, jobs x requests per job); omitted: no limit. */
  batchPerWave?: number;
}

export interface AutoTarget {
  /** The time every chain is planned to finish within, from now. */
  targetMs: number;
  /** The deepest chain's records one after another on Flex. */
  criticalMs: number;
  /** The deepest chain, in records. */
  deepest: number;
  /** Records the plan leaves to Flex (the overflow included); the others go by Batch. */
  flexRecords: number;
  /** Batch steps Batch's jobs could not hold within the target, sent by Flex instead. */
  batchOverflow: number;
  /** True when Flex's rate, not the critical path, set the target. */
  rateBound: boolean;
}

/** Bisection stops when the bracket is this narrow: a minute is nothing beside a batch turnaround. */
const RESOLUTION_MS = 60_000;

export function autoTarget({ chains, latency, flexDrainMs, batchPerWave }: AutoTargetInput): AutoTarget {
  let deepest = 0;
  let records = 0;
  for (const [depth, count] of chains) {
    if (count > 0) deepest = Math.max(deepest, depth);
    records += depth * count;
  }
  deepest = Math.max(1, deepest);
  const criticalMs = chainFinishMs('flex', deepest, latency);
  const fits = (targetMs: number) => {
    if (!flexDrainMs) return true;
    const overflow = batchOverflow(chains, latency, targetMs, batchPerWave);
    const waves = flexWaves(chains, latency, targetMs);
    const flexRecords = (waves[waves.length - 1]?.records ?? 0) + overflow;
    // Batch steps its jobs cannot hold go by Flex too, from the start.
    if (flexRecords > 0 && flexDrainMs(flexRecords) > targetMs - latency.flex.typicalMs) return false;
    return waves.every(
      (wave) =>
        flexDrainMs(wave.records) <=
        targetMs - wave.batchSteps * latency.batch.slowMs - latency.flex.typicalMs,
    );
  };
  const at = (targetMs: number, rateBound: boolean): AutoTarget => {
    const overflow = batchOverflow(chains, latency, targetMs, batchPerWave);
    return {
      targetMs,
      criticalMs,
      deepest,
      flexRecords: flexShare(chains, latency, targetMs) + overflow,
      batchOverflow: overflow,
      rateBound,
    };
  };
  if (fits(criticalMs)) return at(criticalMs, false);
  // Every chain wholly on Batch, in as many waves as its jobs need, leaves Flex nothing: that fits.
  const batchWaves = Math.max(deepest, batchPerWave ? Math.ceil(records / batchPerWave) : 0);
  let low = criticalMs;
  let high = Math.max(criticalMs, batchWaves * Math.max(latency.batch.slowMs, latency.flex.typicalMs));
  while (high - low > RESOLUTION_MS) {
    const middle = (low + high) / 2;
    if (fits(middle)) high = middle;
    else low = middle;
  }
  return at(high, true);
}

/**
 * Batch steps the plan for `targetMs` gives Batch beyond what its jobs can hold in that time
 * (`batchPerWave` records a turnaround): they go by Flex instead.
 */
export function batchOverflow(
  chains: ChainDepths,
  latency: Record<Lane, LaneLatency>,
  targetMs: number,
  batchPerWave: number | undefined,
): number {
  if (batchPerWave === undefined) return 0;
  let planned = 0;
  for (const [depth, count] of chains) planned += batchSteps(depth, latency, targetMs) * count;
  const turnarounds = Math.floor(targetMs / Math.max(1, latency.batch.slowMs));
  return Math.max(0, planned - turnarounds * batchPerWave);
}

/** The Flex records that can start only after `batchSteps` batch steps, or later. */
export interface FlexWave {
  batchSteps: number;
  /** Flex records of the chains with at least `batchSteps` batch steps. */
  records: number;
}

/**
 * The plan's Flex records for `targetMs` by when they can start: for each number of batch steps a
 * chain takes first, the Flex records of all chains taking at least that many, latest start first.
 */
export function flexWaves(
  chains: ChainDepths,
  latency: Record<Lane, LaneLatency>,
  targetMs: number,
): FlexWave[] {
  const byStart = new Map<number, number>();
  for (const [depth, count] of chains) {
    const steps = batchSteps(depth, latency, targetMs);
    const records = (depth - steps) * count;
    if (records > 0) byStart.set(steps, (byStart.get(steps) ?? 0) + records);
  }
  let records = 0;
  return [...byStart.keys()]
    .sort((a, b) => b - a)
    .map((steps) => {
      records += byStart.get(steps) ?? 0;
      return { batchSteps: steps, records };
    });
}

/** Records of `chains` that must go by Flex for each chain to end within `targetMs` (see the module comment). */
export function flexShare(chains: ChainDepths, latency: Record<Lane, LaneLatency>, targetMs: number): number {
  let records = 0;
  for (const [depth, count] of chains) records += count * (depth - batchSteps(depth, latency, targetMs));
  return records;
}

/**
 * How many of a chain's `depth` records go by Batch, first, so that it still ends within `targetMs`
 * with the rest on Flex; all of them when Batch is no slower than Flex.
 */
export function batchSteps(depth: number, latency: Record<Lane, LaneLatency>, targetMs: number): number {
  const batch = latency.batch.slowMs;
  const flex = latency.flex.typicalMs;
  if (batch <= flex) return depth;
  const steps = Math.floor((targetMs - depth * flex) / (batch - flex));
  return Math.min(depth, Math.max(0, steps));
}
