import { describe, expect, it } from 'vitest';
import { isOwnJobName, jobDisplayName, jobNamePrefix } from '../../src/planner/job-name.js';
import { packJobs, type PackLimits } from '../../src/planner/packer.js';

const limits: PackLimits = {
  freeJobSlots: 10,
  maxRequestsPerJob: 3,
  maxJobBytes: 1000,
  freeTokens: 1000,
  tokenBudget: 1000,
  inlineMaxBytes: 250,
};

const candidates = (n: number, tokens = 10, bytes = 100) =>
  Array.from({ length: n }, (_, i) => ({ recordId: `r${i}`, estimatedTokens: tokens, bytes }));

describe('packJobs', () => {
  it('fills jobs up to the request cap, in priority order', () => {
    const { jobs } = packJobs(candidates(7), limits);
    expect(jobs.map((j) => j.members.map((m) => m.recordId))).toEqual([
      ['r0', 'r1', 'r2'],
      ['r3', 'r4', 'r5'],
      ['r6'],
    ]);
    expect(jobs.map((j) => j.kind)).toEqual(['file', 'file', 'inline']);
  });

  it('never exceeds free job slots, the token budget or the byte cap', () => {
    expect(
      packJobs(candidates(10), { ...limits, freeJobSlots: 2 }).jobs.flatMap((j) => j.members),
    ).toHaveLength(6);
    const budgeted = packJobs(candidates(10, 300), { ...limits, freeTokens: 700 });
    expect(budgeted.jobs.reduce((s, j) => s + j.estimatedTokens, 0)).toBe(600);
    const bytes = packJobs(candidates(4, 1, 400), limits);
    expect(bytes.jobs.map((j) => j.bytes)).toEqual([800, 800]);
    expect(packJobs(candidates(3), { ...limits, freeJobSlots: 0 }).jobs).toEqual([]);
  });

  it('says whether its last job could take more: candidates ran out before a limit closed it', () => {
    expect(packJobs(candidates(7), limits).lastJobOpen).toBe(true);
    expect(packJobs(candidates(6), limits).lastJobOpen).toBe(false);
    // The candidates ran out under the request cap: open, whatever the next one's bytes will be.
    expect(packJobs(candidates(4, 1, 400), limits).lastJobOpen).toBe(true);
    expect(packJobs(candidates(10), { ...limits, freeJobSlots: 2 }).lastJobOpen).toBe(false);
    expect(packJobs(candidates(10, 300), { ...limits, freeTokens: 700 }).lastJobOpen).toBe(false);
    expect(packJobs([], limits).lastJobOpen).toBe(false);
  });

  it('packs the records of a split job only together, at most its cap to a job', () => {
    const [a, b, c, d, e] = candidates(5);
    const split = (group: string, cap: number) => ({ split: { group, cap } });
    const { jobs } = packJobs(
      [
        { ...a!, ...split('job-1', 2) },
        { ...b!, ...split('job-1', 2) },
        { ...c!, ...split('job-1', 2) },
        { ...d!, ...split('job-2', 1) },
        e!,
      ],
      limits,
    );
    expect(jobs.map((j) => j.members.map((m) => m.recordId))).toEqual([['r0', 'r1'], ['r2'], ['r3'], ['r4']]);
  });

  it('sets aside requests that can never fit', () => {
    const result = packJobs(
      [{ recordId: 'huge', estimatedTokens: 5000, bytes: 1 }, ...candidates(1)],
      limits,
    );
    expect(result.oversized.map((c) => c.recordId)).toEqual(['huge']);
    expect(result.jobs[0]?.members.map((m) => m.recordId)).toEqual(['r0']);
  });
});

describe('jobDisplayName', () => {
  it('is deterministic and independent of member order, but changes with attempts and nonce', () => {
    // Members as "recordId:attempt", in the order given.
    const named = (members: string, nonce: string) =>
      jobDisplayName(
        'wb-w-0a1b2c3d-',
        members.split(' ').map((member) => {
          const [recordId = '', attempt] = member.split(':');
          return { recordId, attempt: Number(attempt) };
        }),
        nonce,
      );
    const a = named('x:0 y:0', 'n1');
    const b = named('y:0 x:0', 'n1');
    const c = named('x:1 y:0', 'n1');
    const d = named('x:0 y:0', 'n2');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).not.toBe(d);
    expect(a).toMatch(/^wb-w-0a1b2c3d-[0-9a-f]{20}$/);
  });

  it("tells this store's job names from another store's or another workload's", () => {
    const prefix = jobNamePrefix('w', '0a1b2c3d');
    const own = jobDisplayName(prefix, [{ recordId: 'x', attempt: 0 }], 'n');
    expect(isOwnJobName(prefix, own)).toBe(true);
    expect(isOwnJobName(prefix, jobDisplayName(jobNamePrefix('w', 'ffffffff'), [], 'n'))).toBe(false);
    // Workload "w" must not claim the jobs of workload "w-2", whose names also start with "wb-w-".
    expect(isOwnJobName(jobNamePrefix('w', '2'), jobDisplayName(jobNamePrefix('w-2', 'aa'), [], 'n'))).toBe(
      false,
    );
    expect(isOwnJobName(prefix, `${prefix}not-a-hash`)).toBe(false);
    expect(isOwnJobName(prefix, undefined)).toBe(false);
  });
});
