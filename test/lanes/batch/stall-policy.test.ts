import { describe, expect, it } from 'vitest';
import type { BatchJobInfo } from '../../../src/gemini/index.js';
import {
  learnedTurnaroundMs,
  nothingProcessed,
  StallWatch,
  stallThresholdMs,
  UNLEARNED_STALL_MS,
} from '../../../src/lanes/batch/stall-policy.js';
import type { JobRow } from '../../../src/store/store.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function job(id: string, state: JobRow['state'], createdAt: number, updatedAt = createdAt): JobRow {
  return {
    id,
    remoteName: `batches/${id}`,
    model: 'm',
    state,
    kind: 'inline',
    inputFile: null,
    requestCount: 1,
    recordCount: 1,
    estimatedTokens: 1,
    estimatedAudioTokens: 0,
    inputTokens: 0,
    outputTokens: 0,
    error: null,
    createdAt: new Date(createdAt).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
  };
}

const remote = (state: BatchJobInfo['state'], stats?: BatchJobInfo['stats']): BatchJobInfo => ({
  name: 'batches/x',
  state,
  ...(stats ? { stats } : {}),
});

describe('stall policy', () => {
  it('learns the median turnaround of processed jobs, once there are three', () => {
    const done = (id: string, ms: number) => job(id, 'processed', T0, T0 + ms);
    expect(learnedTurnaroundMs([done('a', 10), done('b', 20)], T0 + 100)).toBeNull();
    // A job out for 15 so far lasts at least 15: the median is still the middle of the three.
    expect(
      learnedTurnaroundMs([done('a', 10), done('b', 30), done('c', 20), job('d', 'running', T0)], T0 + 15),
    ).toBe(20);
    expect(learnedTurnaroundMs([done('a', 10), done('b', 20), done('c', 30), done('d', 40)], T0 + 100)).toBe(
      25,
    );
  });

  it('counts the jobs still out as lasting at least their age, so the fast ones back first do not set the turnaround', () => {
    const minute = 60_000;
    const done = (id: string, minutes: number) => job(id, 'processed', T0, T0 + minutes * minute);
    const fast = [done('a', 8), done('b', 10), done('c', 12)];
    const out = Array.from({ length: 10 }, (_, index) =>
      job(`out${index}`, index % 2 === 0 ? 'pending' : 'running', T0),
    );
    // Three of thirteen back after 8-12 min, ten out for an hour: half of them may well take longer
    // than anything seen, so nothing is learned yet (the finished ones alone said 10 min, and a
    // factor of 4 called the ten stalled at 40 min).
    expect(learnedTurnaroundMs([...fast, ...out], T0 + 60 * minute)).toBeNull();
    const policy = { factor: 4, minAgeMs: minute, action: 'cancel' as const };
    const watch = new StallWatch(policy);
    watch.beginPass([...fast, ...out], T0 + 60 * minute);
    expect(watch.check(out[0] as JobRow, remote('pending'), T0 + 60 * minute)).toEqual({ kind: 'none' });
    // Jobs out for less time than those that ended do not hold the estimate back.
    const young = Array.from({ length: 10 }, (_, index) => job(`young${index}`, 'running', T0 + 55 * minute));
    expect(learnedTurnaroundMs([...fast, ...young], T0 + 60 * minute)).toBe(10 * minute);
    // Seven of ten back, three out for longer than any of them: the median is among the seven.
    const most = [4, 6, 8, 10, 12, 14, 16].map((minutes, index) => done(`m${index}`, minutes));
    const slow = ['x', 'y', 'z'].map((id) => job(id, 'running', T0));
    expect(learnedTurnaroundMs([...most, ...slow], T0 + 30 * minute)).toBe(13 * minute);
  });

  it('is factor x turnaround, never below the minimum age, and 24 h before anything was learned', () => {
    const policy = { factor: 4, minAgeMs: 1000, action: 'wait' as const };
    expect(stallThresholdMs(100, policy)).toBe(1000);
    expect(stallThresholdMs(60_000, policy)).toBe(240_000);
    expect(stallThresholdMs(null, policy)).toBe(UNLEARNED_STALL_MS);
  });

  it('cancels only what processed nothing (PENDING, or RUNNING with no processed request)', () => {
    expect(nothingProcessed(remote('pending'))).toBe(true);
    expect(nothingProcessed(remote('running', { requestCount: 5, pendingRequestCount: 5 }))).toBe(true);
    expect(nothingProcessed(remote('running', { requestCount: 5, successfulRequestCount: 1 }))).toBe(false);
    expect(nothingProcessed(remote('running'))).toBe(false);
  });

  it('reports a stalled job once, and cancels it once (again only after a failed cancel)', () => {
    const watch = new StallWatch({ factor: 2, minAgeMs: 0, action: 'cancel' });
    const history = ['a', 'b', 'c'].map((id) => job(id, 'processed', T0, T0 + 1000));
    const stuck = job('s', 'pending', T0);
    watch.beginPass([...history, stuck], T0 + 1500);
    expect(watch.check(stuck, remote('pending'), T0 + 1500)).toEqual({ kind: 'none' });
    expect(watch.check(stuck, remote('pending'), T0 + 2500)).toMatchObject({ kind: 'stalled', cancel: true });
    expect(watch.stalledCount()).toBe(1);
    expect(watch.check(stuck, remote('pending'), T0 + 3000)).toEqual({ kind: 'none' });
    watch.cancelFailed('s');
    expect(watch.check(stuck, remote('pending'), T0 + 3500)).toMatchObject({ kind: 'stalled', cancel: true });

    const waiting = new StallWatch({ factor: 2, minAgeMs: 0, action: 'cancel' });
    waiting.beginPass(history, T0 + 2500);
    // RUNNING with processed requests: reported, never cancelled.
    const busy = remote('running', { requestCount: 2, successfulRequestCount: 1 });
    expect(waiting.check(stuck, busy, T0 + 2500)).toMatchObject({ kind: 'stalled', cancel: false });
    expect(waiting.check(stuck, busy, T0 + 9000)).toEqual({ kind: 'none' });
  });
});
