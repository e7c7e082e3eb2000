import { describe, expect, it } from 'vitest';
import { isStalledBatch, LatencyTracker, MIN_STALL_MS, PRIOR_LATENCY } from '../../src/scheduler/index.js';

const MINUTE = 60_000;

describe('LatencyTracker', () => {
  it('starts from the priors', () => {
    const tracker = new LatencyTracker();
    expect(tracker.estimates()).toEqual(PRIOR_LATENCY);
    expect(tracker.evidence('flex')).toBe(0);
  });

  it('moves to what is measured, the prior weighing as a few samples', () => {
    const tracker = new LatencyTracker();
    for (let i = 0; i < 40; i++) tracker.observe('batch', 20 * MINUTE + i * 1000);
    const batch = tracker.estimate('batch');
    expect(batch.typicalMs).toBeGreaterThanOrEqual(20 * MINUTE);
    expect(batch.typicalMs).toBeLessThan(21 * MINUTE);
    // The 90th percentile of 40 samples of ~20 min plus 2 pseudo-samples at 8 h stays near 20 min.
    expect(batch.slowMs).toBeLessThan(21 * MINUTE);
    expect(tracker.estimate('flex')).toEqual(PRIOR_LATENCY.flex);
  });

  it('does not let one sample erase the prior', () => {
    const tracker = new LatencyTracker();
    tracker.observe('flex', 1000);
    const flex = tracker.estimate('flex');
    expect(flex.typicalMs).toBe(PRIOR_LATENCY.flex.typicalMs);
    expect(flex.slowMs).toBe(PRIOR_LATENCY.flex.slowMs);
  });

  it('follows a change: only the most recent samples count', () => {
    const tracker = new LatencyTracker();
    for (let i = 0; i < 300; i++) tracker.observe('flex', 14 * MINUTE);
    for (let i = 0; i < 256; i++) tracker.observe('flex', 2 * MINUTE);
    expect(tracker.estimate('flex').typicalMs).toBe(2 * MINUTE);
    expect(tracker.evidence('flex')).toBe(256);
  });

  it('ignores nonsense measurements', () => {
    const tracker = new LatencyTracker();
    tracker.observe('standard', -5);
    tracker.observe('standard', Number.NaN);
    expect(tracker.evidence('standard')).toBe(0);
  });
});

describe('isStalledBatch', () => {
  it('flags a job three times past the slow turnaround, never before an hour', () => {
    const batch = { typicalMs: 10 * MINUTE, slowMs: 40 * MINUTE };
    expect(isStalledBatch(119 * MINUTE, batch)).toBe(false);
    expect(isStalledBatch(121 * MINUTE, batch)).toBe(true);
    const fast = { typicalMs: MINUTE, slowMs: 2 * MINUTE };
    expect(isStalledBatch(30 * MINUTE, fast)).toBe(false);
    expect(isStalledBatch(MIN_STALL_MS + 1, fast)).toBe(true);
  });
});
