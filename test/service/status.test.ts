import { describe, expect, it } from 'vitest';
import { GEMINI_PRICE_LIST } from '../../src/pricing/index.js';
import { BATCH_TARGET_TURNAROUND_MS, summarizeStatus, type StatusFacts } from '../../src/service/index.js';
import type { JobRow } from '../../src/store/store.js';

const NOW = Date.parse('2026-01-02T00:00:00Z');
const HOUR = 3_600_000;

function job(
  id: string,
  state: JobRow['state'],
  createdAgoMs: number,
  tookMs = 0,
  requests = 10,
  records = requests,
): JobRow {
  return {
    id,
    remoteName: `batches/${id}`,
    model: 'gemini-2.5-flash',
    state,
    kind: 'inline',
    inputFile: null,
    requestCount: requests,
    recordCount: records,
    estimatedTokens: 0,
    estimatedAudioTokens: 0,
    inputTokens: 0,
    outputTokens: 0,
    error: null,
    createdAt: new Date(NOW - createdAgoMs).toISOString(),
    updatedAt: new Date(NOW - createdAgoMs + tookMs).toISOString(),
  };
}

function facts(overrides: Partial<StatusFacts> = {}): StatusFacts {
  const none = { records: 0, inputTokens: 0, outputTokens: 0 };
  return {
    workload: 'w',
    configPath: '/w/wavebatch.yaml',
    model: 'gemini-2.5-flash',
    counts: { total: 100, done: 40, in_flight: 10, ready: 10, blocked: 40, dead: 0 },
    chains: { total: 10, done: 2, inProgress: 8, notStarted: 0, blocked: 0, recordsBehindDeadLetters: 0 },
    jobs: [],
    usage: { short: none, long: none },
    completedInWindow: 0,
    windowStart: NOW,
    longestChain: 0,
    priceList: GEMINI_PRICE_LIST,
    failureCauses: [],
    attempts: [],
    ...overrides,
  };
}

describe('summarizeStatus', () => {
  it('flags active jobs older than the 24-hour target as stalled, and sums them per lane', () => {
    const status = summarizeStatus(
      facts({
        jobs: [
          job('old', 'pending', BATCH_TARGET_TURNAROUND_MS + HOUR, 0, 7),
          // Grouped: 5 requests carry 20 records.
          job('new', 'running', HOUR, 0, 5, 20),
          job('done', 'processed', 3 * HOUR, HOUR),
        ],
      }),
      NOW,
    );
    expect(status.activeJobs.map((j) => [j.id, j.stalled, j.ageMs])).toEqual([
      ['old', true, BATCH_TARGET_TURNAROUND_MS + HOUR],
      ['new', false, HOUR],
    ]);
    expect(status.activeJobs.map((j) => [j.requests, j.records])).toEqual([
      [7, 7],
      [5, 20],
    ]);
    expect(status.lanes).toEqual({ batch: { activeJobs: 2, requests: 12, records: 27, stalled: 1 } });
  });

  it("prices and labels the cost at the lane the workload's mode sends on (auto: batch, the cheapest)", () => {
    const usage = {
      short: { records: 40, inputTokens: 40_000, outputTokens: 20_000 },
      long: facts().usage.long,
    };
    const lanes = (['batch', 'flex', 'realtime', 'auto'] as const).map((mode) => {
      const { cost } = summarizeStatus(facts({ mode, usage }), NOW);
      return [mode, cost.lane, cost.soFar];
    });
    const batch = lanes[0]?.[2] as number;
    // A realtime workload's tokens at standard prices: twice batch's (and Flex's).
    expect(lanes).toEqual([
      ['batch', 'batch', batch],
      ['flex', 'flex', batch],
      ['realtime', 'standard', 2 * batch],
      ['auto', 'batch', batch],
    ]);
  });

  it('takes the later of the width bound (rate) and the depth bound (longest chain x turnaround)', () => {
    const jobs = [
      job('a', 'processed', 10 * HOUR, HOUR),
      job('b', 'processed', 8 * HOUR, 2 * HOUR),
      job('c', 'processed', 5 * HOUR, 3 * HOUR),
    ];
    // 60 records left at 10/h: 6 h wide; a chain of 2 at a 2 h median turnaround: 4 h deep.
    const wide = summarizeStatus(
      facts({ jobs, completedInWindow: 100, windowStart: NOW - 10 * HOUR, longestChain: 2 }),
      NOW,
    );
    expect(wide.throughput).toEqual({ recordsPerHour: 10, windowMs: 10 * HOUR, jobTurnaroundMs: 2 * HOUR });
    expect(wide.eta.remainingRecords).toBe(60);
    expect(wide.eta.remainingMs).toBe(6 * HOUR);
    expect(wide.eta.finishAt).toBe(new Date(NOW + 6 * HOUR).toISOString());
    // The same rate with a chain of 5 left: 10 h deep wins.
    const deep = summarizeStatus(
      facts({ jobs, completedInWindow: 100, windowStart: NOW - 10 * HOUR, longestChain: 5 }),
      NOW,
    );
    expect(deep.eta.remainingMs).toBe(10 * HOUR);
  });

  it('learns the turnaround as the stall watch does: jobs still out count as lasting at least their age', () => {
    // Early in a run with a heavy tail: the three jobs back took 10 minutes, twenty more have been
    // out for an hour. The finished ones alone said "10 minutes" (an ETA of 50 minutes for a chain
    // of 5, and every job out flagged stalled at 4x); nothing is known yet.
    const early = [
      ...['a', 'b', 'c'].map((id) => job(id, 'processed', 2 * HOUR, HOUR / 6)),
      ...Array.from({ length: 20 }, (_, i) => job(`out-${i}`, 'running', HOUR)),
    ];
    const policy = { factor: 4, minAgeMs: 0, action: 'cancel' as const };
    const status = summarizeStatus(
      facts({
        jobs: early,
        completedInWindow: 30,
        windowStart: NOW - 3 * HOUR,
        longestChain: 5,
        stallPolicy: policy,
      }),
      NOW,
    );
    expect(status.throughput.jobTurnaroundMs).toBeNull();
    // The width bound alone: 60 records at 10/h.
    expect(status.eta.remainingMs).toBe(6 * HOUR);
    expect(status.activeJobs.filter((j) => j.stalled)).toEqual([]);
    expect(status.lanes.batch?.stalled).toBe(0);

    // Once most have come back (in 1-2 h), the median is theirs, and a job out 9 h is 4x past it.
    const later = [
      ...['a', 'b', 'c'].map((id) => job(id, 'processed', 12 * HOUR, HOUR / 6)),
      ...Array.from({ length: 20 }, (_, i) =>
        job(`back-${i}`, 'processed', 11 * HOUR, HOUR + (i * HOUR) / 20),
      ),
      job('slow', 'running', 9 * HOUR),
    ];
    const settled = summarizeStatus(facts({ jobs: later, longestChain: 5, stallPolicy: policy }), NOW);
    // 24 jobs, 12 back by 84 minutes and the 13th at 87: the median lies between.
    expect(settled.throughput.jobTurnaroundMs).toBe(85.5 * 60_000);
    expect(settled.activeJobs.map((j) => [j.id, j.stalled])).toEqual([['slow', true]]);
  });

  it('leaves records behind dead letters out of what is left to run and to pay for', () => {
    const status = summarizeStatus(
      facts({
        counts: { total: 10, done: 4, in_flight: 0, ready: 0, blocked: 5, dead: 1 },
        chains: { total: 2, done: 1, inProgress: 0, notStarted: 0, blocked: 1, recordsBehindDeadLetters: 5 },
        usage: {
          short: { records: 4, inputTokens: 4_000_000, outputTokens: 0 },
          long: { records: 0, inputTokens: 0, outputTokens: 0 },
        },
      }),
      NOW,
    );
    expect(status.eta).toMatchObject({ remainingRecords: 0, remainingMs: 0 });
    // 4M input tokens at the batch price of flash ($0.15 / 1M).
    expect(status.cost.soFar).toBeCloseTo(0.6, 10);
    expect(status.cost.projected).toBeCloseTo(0.6, 10);
  });

  it('prices long-context records at the long-context rates and projects from the cost per record', () => {
    const status = summarizeStatus(
      facts({
        model: 'gemini-2.5-pro',
        usage: {
          short: { records: 1, inputTokens: 100_000, outputTokens: 1_000 },
          long: { records: 1, inputTokens: 300_000, outputTokens: 1_000 },
        },
      }),
      NOW,
    );
    // Batch: short $0.625 in / $5 out, long $1.25 in / $7.5 out per 1M.
    const short = (100_000 * 0.625 + 1_000 * 5) / 1e6;
    const long = (300_000 * 1.25 + 1_000 * 7.5) / 1e6;
    expect(status.cost.soFar).toBeCloseTo(short + long, 10);
    expect(status.cost.projected).toBeCloseTo(short + long + ((short + long) / 2) * 60, 10);
  });

  it('takes what was billed from the inference log, per lane, counting requests (not the records a grouped request carried), leaving out records rejected before sending', () => {
    const group = (
      lane: 'batch' | 'flex',
      type: string,
      attempts: number,
      costUsd: number,
      requests = attempts,
    ) => ({
      model: 'gemini-2.5-flash',
      lane,
      promptName: 'p',
      promptVersion: 'v1',
      type,
      cause: null,
      attempts,
      requests,
      records: attempts,
      inputTokens: attempts * 100,
      outputTokens: attempts * 10,
      thoughtsTokens: 0,
      costUsd,
      latencyMs: 0,
    });
    const status = summarizeStatus(
      facts({
        attempts: [
          // 3 records answered by one grouped request (records_per_request: 3): one request billed.
          group('batch', 'done', 3, 0.3, 1),
          group('flex', 'retry', 1, 0.2),
          group('batch', 'rejected', 2, 0, 0),
        ],
      }),
      NOW,
    );
    expect(status.billed).toEqual({
      requests: 2,
      inputTokens: 400,
      outputTokens: 40,
      costUsd: 0.5,
      unknownCostRequests: 0,
      byLane: {
        batch: { requests: 1, inputTokens: 300, outputTokens: 30, costUsd: 0.3 },
        flex: { requests: 1, inputTokens: 100, outputTokens: 10, costUsd: 0.2 },
      },
    });
    expect(status.cost).toMatchObject({ soFar: 0.5, basis: 'inference-log' });
    expect(summarizeStatus(facts(), NOW).cost.basis).toBe('completed-records');
  });

  it('says the cost is unknown for a model the price list does not know', () => {
    const status = summarizeStatus(facts({ model: 'some-other-model' }), NOW);
    expect(status.cost.soFar).toBeNull();
    expect(status.cost.projected).toBeNull();
  });
});
