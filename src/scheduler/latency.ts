import { LANES, type Lane } from '../lanes/lane.js';

/** How long a lane takes to answer one request: the usual time and a pessimistic one. */
export interface LaneLatency {
  /** The median. */
  typicalMs: number;
  /** The 90th percentile: what a deadline is planned against. */
  slowMs: number;
}

/**
 * What is assumed before anything was measured. Batch: users report tens of minutes to many hours
 * (the SLO is 24 h); Flex: Google's 1-15 minute target; standard and priority: seconds to minutes.
 */
export const PRIOR_LATENCY: Readonly<Record<Lane, LaneLatency>> = {
  batch: { typicalMs: 60 * 60_000, slowMs: 8 * 60 * 60_000 },
  flex: { typicalMs: 5 * 60_000, slowMs: 15 * 60_000 },
  standard: { typicalMs: 30_000, slowMs: 2 * 60_000 },
  priority: { typicalMs: 10_000, slowMs: 60_000 },
};

/** Samples kept per lane: recent enough to follow a change of weather, enough for a 90th percentile. */
const KEPT_SAMPLES = 256;
/** The prior counts as this many samples, so a first few fast answers do not erase it. */
const PRIOR_WEIGHT = 4;

/**
 * Learns each lane's latency from what this run (and earlier runs, replayed from the store) saw:
 * batch turnaround from create to results, synchronous latency from send to answer. The estimate
 * blends the prior in as a few pseudo-samples, so it moves with evidence and not with one outlier.
 */
export class LatencyTracker {
  private readonly samples = new Map<Lane, number[]>();

  constructor(private readonly prior: Readonly<Record<Lane, LaneLatency>> = PRIOR_LATENCY) {}

  /** Records one measured latency. */
  observe(lane: Lane, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    let list = this.samples.get(lane);
    if (!list) this.samples.set(lane, (list = []));
    list.push(ms);
    if (list.length > KEPT_SAMPLES) list.shift();
  }

  /** How many samples a lane's estimate rests on. */
  evidence(lane: Lane): number {
    return this.samples.get(lane)?.length ?? 0;
  }

  /** The current estimate of one lane. */
  estimate(lane: Lane): LaneLatency {
    const prior = this.prior[lane];
    const observed = this.samples.get(lane) ?? [];
    if (observed.length === 0) return { ...prior };
    // The prior's median and 90th percentile as pseudo-samples, half each side of them.
    const pseudo: number[] = [];
    for (let i = 0; i < PRIOR_WEIGHT; i++) pseudo.push(i < PRIOR_WEIGHT / 2 ? prior.typicalMs : prior.slowMs);
    const all = [...observed, ...pseudo].sort((a, b) => a - b);
    return { typicalMs: quantile(all, 0.5), slowMs: Math.max(quantile(all, 0.9), quantile(all, 0.5)) };
  }

  /** Estimates of every lane. */
  estimates(): Record<Lane, LaneLatency> {
    const out = {} as Record<Lane, LaneLatency>;
    for (const lane of LANES) out[lane] = this.estimate(lane);
    return out;
  }
}

/** The q-quantile of sorted values, by nearest rank. */
function quantile(sorted: readonly number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? 0;
}
