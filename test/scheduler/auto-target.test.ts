import { describe, expect, it } from 'vitest';
import { autoTarget, batchSteps, drainMs, flexWaves } from '../../src/scheduler/index.js';
import { DAY, HOUR, LATENCY, MINUTE, TIER1_LIMITS } from '../fixtures/scheduler-figures.js';

const TIER1_FLEX = TIER1_LIMITS;
const flexAtTier1 = (records: number) => drainMs(records, 500, TIER1_FLEX);
/** The same quota with 16 requests open at once, each about Flex's 5 minutes: 3.2 a minute. */
const flexSixteenOpen = (records: number) =>
  drainMs(records, 500, TIER1_FLEX, { open: { slots: 16, typicalMs: LATENCY.flex.typicalMs } });

/** The critical path of a chain of `depth` on Flex: its first answer slow, the others typical. */
const critical = (depth: number) => 15 * MINUTE + (depth - 1) * 5 * MINUTE;

describe('autoTarget', () => {
  it('is the critical path on Flex when Flex can carry every record in that time', () => {
    const target = autoTarget({ chains: new Map([[20, 10]]), latency: LATENCY, flexDrainMs: flexAtTier1 });
    expect(target).toEqual({
      targetMs: critical(20),
      criticalMs: critical(20),
      deepest: 20,
      flexRecords: 200,
      batchOverflow: 0,
      rateBound: false,
    });
    // Without a limit on Flex, as before quotas were weighed.
    const unlimited = autoTarget({ chains: new Map([[20, 50_000]]), latency: LATENCY });
    expect(unlimited.targetMs).toBe(critical(20));
    expect(unlimited.flexRecords).toBe(1_000_000);
  });

  it('sends a million records of equally deep chains by batch, not a hundred days through Flex', () => {
    // 50,000 chains of 20: on Flex alone 1,000,000 requests at 10,000 a day. Any batch step leaves
    // Flex the chains' later records, which can start only after it: still days of Flex's quota.
    const target = autoTarget({
      chains: new Map([[20, 50_000]]),
      latency: LATENCY,
      flexDrainMs: flexAtTier1,
    });
    expect(flexAtTier1(1_000_000)).toBeGreaterThan(99 * DAY);
    expect(target.rateBound).toBe(true);
    expect(target.flexRecords).toBe(0);
    expect(target.targetMs).toBeLessThanOrEqual(20 * 6 * HOUR);
    expect(target.targetMs).toBeGreaterThan(20 * 6 * HOUR - 2 * MINUTE);
    expect(batchSteps(20, LATENCY, target.targetMs)).toBe(20);
  });

  it('leaves Flex the chains’ last records when it can start them all in time after the batch steps', () => {
    // 1,000 chains of 20 with 16 Flex requests open at once (3.2 a minute): 19 batch steps (19 x 6 h)
    // and then 1,000 last records through Flex in 312.5 minutes, each answered in 5: 7,157.5 minutes,
    // 42.5 sooner than all 20 by batch. 18 batch steps would leave 2,000 records: 625 minutes more.
    const target = autoTarget({
      chains: new Map([[20, 1_000]]),
      latency: LATENCY,
      flexDrainMs: flexSixteenOpen,
    });
    expect(target.flexRecords).toBe(1_000);
    expect(target.targetMs).toBeGreaterThanOrEqual(7_157.5 * MINUTE);
    expect(target.targetMs).toBeLessThanOrEqual(7_158.5 * MINUTE);
    expect(flexWaves(new Map([[20, 1_000]]), LATENCY, target.targetMs)).toEqual([
      { batchSteps: 19, records: 1_000 },
    ]);
  });

  it('keeps the deep chains on Flex and moves the shallow ones to batch when their number is what Flex cannot carry', () => {
    // Ten chains of 40 need Flex (400 records); 20,000 single records cannot all go through Flex's
    // 10,000 a day within the critical path (3h30m), so the target grows to one batch turnaround
    // (6 h) and they go by batch, while the deep chains stay on Flex.
    const chains = new Map([
      [40, 10],
      [1, 20_000],
    ]);
    const target = autoTarget({ chains, latency: LATENCY, flexDrainMs: flexAtTier1 });
    expect(target.targetMs).toBeGreaterThanOrEqual(6 * HOUR);
    expect(target.targetMs).toBeLessThanOrEqual(6 * HOUR + MINUTE);
    expect(target.rateBound).toBe(true);
    expect(batchSteps(1, LATENCY, target.targetMs)).toBe(1);
    expect(batchSteps(40, LATENCY, target.targetMs)).toBe(0);
    expect(target.flexRecords).toBe(400);
  });

  it('sends by Flex the batch steps Batch’s jobs cannot hold within the target', () => {
    // 20,000 single records, Batch holding 1,000 a turnaround (6 h), Flex 10,000 a day: in one day
    // Batch takes 4,000 and Flex the other 16,000 in two days; in two days Batch 8,000 and Flex
    // 12,000 (a day and a bit). The target settles between, every record within it.
    const chains = new Map([[1, 20_000]]);
    const target = autoTarget({ chains, latency: LATENCY, flexDrainMs: flexAtTier1, batchPerWave: 1_000 });
    expect(target.batchOverflow).toBeGreaterThan(0);
    expect(target.flexRecords).toBe(target.batchOverflow);
    expect(flexAtTier1(target.flexRecords)).toBeLessThanOrEqual(target.targetMs);
    expect(Math.floor(target.targetMs / (6 * HOUR)) * 1_000).toBeGreaterThanOrEqual(
      20_000 - target.flexRecords,
    );
    expect(target.targetMs).toBeLessThan(20 * 6 * HOUR);
  });

  it('is never shorter than the critical path nor longer than every chain wholly by batch', () => {
    const shapes = [
      new Map([[1, 1]]),
      new Map([[3, 7]]),
      new Map([
        [5, 300],
        [2, 9_000],
        [60, 2],
      ]),
      new Map([[100, 5_000]]),
    ];
    for (const chains of shapes)
      for (const flexDrainMs of [flexAtTier1, flexSixteenOpen]) {
        const target = autoTarget({ chains, latency: LATENCY, flexDrainMs });
        const deepest = Math.max(...chains.keys());
        expect(target.targetMs).toBeGreaterThanOrEqual(critical(deepest));
        expect(target.targetMs).toBeLessThanOrEqual(Math.max(critical(deepest), deepest * 6 * HOUR));
        // What it leaves Flex, Flex starts in time, wave by wave.
        for (const wave of flexWaves(chains, LATENCY, target.targetMs))
          expect(flexDrainMs(wave.records)).toBeLessThanOrEqual(
            target.targetMs - wave.batchSteps * 6 * HOUR - 5 * MINUTE,
          );
      }
  });
});

describe('drainMs', () => {
  it('is bounded by the requests a minute, the tokens a minute, the day and the requests open at once', () => {
    expect(drainMs(0, 500, TIER1_FLEX)).toBe(0);
    expect(drainMs(1_000, 500, TIER1_FLEX)).toBe(MINUTE);
    // 4,000 tokens a request: 250 a minute by tokens.
    expect(drainMs(1_000, 4_000, TIER1_FLEX)).toBe(4 * MINUTE);
    // 25,000: two whole days at the daily cap, then 5,000 at 1,000 a minute.
    expect(drainMs(25_000, 500, TIER1_FLEX)).toBe(2 * DAY + 5 * MINUTE);
    // 9,990 of today's 10,000 used: 10 more at once, the 11th tomorrow.
    expect(drainMs(10, 500, TIER1_FLEX, { usedToday: 9_990 })).toBe(0.01 * MINUTE);
    expect(drainMs(11, 500, TIER1_FLEX, { usedToday: 9_990 })).toBe(DAY + 0.001 * MINUTE);
    expect(flexSixteenOpen(32)).toBe(10 * MINUTE);
    expect(drainMs(5, 500, { rpm: 0, tpm: 1, rpd: null })).toBe(Number.POSITIVE_INFINITY);
  });
});
