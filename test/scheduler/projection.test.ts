import { describe, expect, it } from 'vitest';
import {
  projectAuto,
  projectBatch,
  projectSync,
  type LaneCapacities,
  type WorkloadShape,
} from '../../src/scheduler/index.js';
import { DAY, HOUR, LATENCY, MINUTE, TIER1_LIMITS } from '../fixtures/scheduler-figures.js';

const LIMITS = TIER1_LIMITS;
const CAPACITY: LaneCapacities = {
  batchRequestsInFlight: 1000,
  sync: { flex: LIMITS, standard: LIMITS, priority: { rpm: 0, tpm: 0, rpd: 0 } },
};

function shape(chains: Array<[length: number, count: number]>, tokens = 500): WorkloadShape {
  return {
    records: chains.reduce((sum, [length, count]) => sum + length * count, 0),
    chainLengths: new Map(chains),
    inputTokensPerRequest: tokens,
  };
}

describe('projectBatch', () => {
  it('needs as many waves as the deepest chain when the width fits one wave', () => {
    const projection = projectBatch(
      shape([
        [80, 1],
        [2, 50],
      ]),
      CAPACITY,
      LATENCY.batch,
    );
    expect(projection).toMatchObject({ available: true, rounds: 80, recordsByLane: { batch: 180 } });
    expect(projection.timeMs).toEqual({ low: 80 * HOUR, high: 80 * 6 * HOUR });
  });

  it('needs records / wave size waves when the width does not fit', () => {
    expect(projectBatch(shape([[1, 5000]]), CAPACITY, LATENCY.batch).rounds).toBe(5);
  });

  it('is empty for an empty workload', () => {
    expect(projectBatch(shape([]), CAPACITY, LATENCY.batch)).toMatchObject({
      rounds: 0,
      timeMs: { low: 0, high: 0 },
    });
  });
});

describe('projectSync', () => {
  it('is bound by the deepest chain at the lane latency', () => {
    const projection = projectSync(shape([[80, 1]]), LIMITS, LATENCY.flex, 'flex');
    expect(projection.timeMs).toEqual({ low: 80 * 5 * MINUTE, high: 80 * 15 * MINUTE });
  });

  it('is bound by requests per minute, and tokens per minute when prompts are large', () => {
    expect(projectSync(shape([[1, 5000]]), LIMITS, LATENCY.standard, 'standard').timeMs.low).toBe(5 * MINUTE);
    // 10 000-token prompts: 100 a minute by TPM.
    expect(projectSync(shape([[1, 5000]], 10_000), LIMITS, LATENCY.standard, 'standard').timeMs.low).toBe(
      50 * MINUTE,
    );
  });

  it('waits for the next day once the daily cap is used', () => {
    const projection = projectSync(shape([[1, 25_000]]), LIMITS, LATENCY.flex, 'flex');
    expect(projection.timeMs.low).toBe(2 * DAY + 5 * MINUTE);
  });

  it('is unavailable without quota', () => {
    const projection = projectSync(shape([[3, 1]]), CAPACITY.sync.priority, LATENCY.priority, 'priority');
    expect(projection.available).toBe(false);
    expect(projection.timeMs.low).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('projectAuto', () => {
  it('sends deep chains to flex and shallow ones to batch, finishing by the flex critical path', () => {
    // Critical path: 15 min + 79 x 5 min = 410 min. A 2-deep chain's first record via batch: 6 h +
    // 5 min fits; its last then goes by Flex (another batch turnaround would not fit). 40 deep: all Flex.
    const projection = projectAuto(
      shape([
        [80, 1],
        [40, 2],
        [2, 50],
      ]),
      CAPACITY,
      LATENCY,
    );
    expect(projection.recordsByLane).toEqual({ batch: 50, flex: 210 });
    expect(projection.timeMs.low).toBe(Math.max(80 * 5 * MINUTE, 6 * HOUR));
    expect(projection.timeMs.high).toBe(80 * 15 * MINUTE);
  });

  it('is at least 5x faster than batch-only on a deep chain workload, at the same price', () => {
    const deep = shape([[80, 10]]);
    const auto = projectAuto(deep, CAPACITY, LATENCY);
    const batch = projectBatch(deep, CAPACITY, LATENCY.batch);
    expect(batch.timeMs.low / auto.timeMs.low).toBeGreaterThanOrEqual(5);
    expect(auto.recordsByLane).toEqual({ flex: 800 });
  });

  it('never takes longer than batch-only when Flex’s quota cannot carry the width (a million records)', () => {
    // 50,000 chains of 20 with Flex's 10,000 requests a day: Flex alone would need 100 days.
    const million = shape([[20, 50_000]]);
    const wide: LaneCapacities = { ...CAPACITY, batchRequestsInFlight: 100_000, syncConcurrency: 16 };
    const auto = projectAuto(million, wide, LATENCY);
    const batch = projectBatch(million, wide, LATENCY.batch);
    const flex = projectSync(million, LIMITS, LATENCY.flex, 'flex', 16);
    expect(flex.timeMs.low).toBeGreaterThan(99 * DAY);
    expect(auto.recordsByLane).toEqual({ batch: 1_000_000 });
    expect(auto.timeMs).toEqual(batch.timeMs);
  });

  it('gives Flex the last records of chains when it can start them in time after their batch steps', () => {
    // 1,000 chains of 20, 16 Flex requests open at once (3.2 a minute): planned at slow turnarounds
    // (6 h), 19 batch steps, then the last records through Flex in 312.5 minutes after the 19th.
    const projection = projectAuto(shape([[20, 1_000]]), { ...CAPACITY, syncConcurrency: 16 }, LATENCY);
    expect(projection.recordsByLane).toEqual({ batch: 19_000, flex: 1_000 });
    // At typical turnarounds (1 h) every step goes by batch, sooner than Flex could take the last ones.
    expect(projection.timeMs.low).toBe(20 * HOUR);
    expect(projection.timeMs.high).toBe(19 * 6 * HOUR + 312.5 * MINUTE + 15 * MINUTE);
  });

  it('lets Flex take what Batch’s jobs cannot hold when the width exceeds them', () => {
    // 50,000 chains of 20 with 6,000 records in batch jobs at once: batch-only needs 167 waves.
    const million = shape([[20, 50_000]]);
    const narrow: LaneCapacities = { ...CAPACITY, batchRequestsInFlight: 6_000, syncConcurrency: 16 };
    const auto = projectAuto(million, narrow, LATENCY);
    const batch = projectBatch(million, narrow, LATENCY.batch);
    expect(batch.rounds).toBe(167);
    expect(auto.recordsByLane.flex).toBeGreaterThan(0);
    expect((auto.recordsByLane.batch ?? 0) + (auto.recordsByLane.flex ?? 0)).toBe(1_000_000);
    expect(auto.timeMs.high).toBeLessThan(batch.timeMs.high);
    expect(auto.timeMs.low).toBeLessThanOrEqual(batch.timeMs.low);
  });

  it('falls back to batch-only without flex quota', () => {
    const noFlex = { ...CAPACITY, sync: { ...CAPACITY.sync, flex: { rpm: 0, tpm: 0, rpd: 0 } } };
    expect(projectAuto(shape([[10, 1]]), noFlex, LATENCY).recordsByLane).toEqual({ batch: 10 });
  });
});
