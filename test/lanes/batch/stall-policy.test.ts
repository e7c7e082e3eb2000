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
    expect(learnedTurnaroundMs([done('a', 10), done('b', 20)])).toBeNull();
    expect(learnedTurnaroundMs([done('a', 10), done('b', 30), done('c', 20), job('d', 'running', T0)])).toBe(
      20,
    );
    expect(learnedTurnaroundMs([done('a', 10), done('b', 20), done('c', 30), done('d', 40)])).toBe(25);
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
    watch.beginPass([...history, stuck]);
    expect(watch.check(stuck, remote('pending'), T0 + 1500)).toEqual({ kind: 'none' });
    expect(watch.check(stuck, remote('pending'), T0 + 2500)).toMatchObject({ kind: 'stalled', cancel: true });
    expect(watch.stalledCount()).toBe(1);
    expect(watch.check(stuck, remote('pending'), T0 + 3000)).toEqual({ kind: 'none' });
    watch.cancelFailed('s');
    expect(watch.check(stuck, remote('pending'), T0 + 3500)).toMatchObject({ kind: 'stalled', cancel: true });

    const waiting = new StallWatch({ factor: 2, minAgeMs: 0, action: 'cancel' });
    waiting.beginPass(history);
    // RUNNING with processed requests: reported, never cancelled.
    const busy = remote('running', { requestCount: 2, successfulRequestCount: 1 });
    expect(waiting.check(stuck, busy, T0 + 2500)).toMatchObject({ kind: 'stalled', cancel: false });
    expect(waiting.check(stuck, busy, T0 + 9000)).toEqual({ kind: 'none' });
  });
});
