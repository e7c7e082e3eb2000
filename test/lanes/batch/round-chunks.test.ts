import { describe, expect, it } from 'vitest';
import { ROUND_CHUNK_BYTES, roundChunkRecords } from '../../../src/lanes/batch/job-submission.js';

describe('roundChunkRecords', () => {
  it('takes one job’s worth until a request has been built', () => {
    expect(roundChunkRecords(1000, 0)).toBe(1000);
  });

  it('takes ten jobs’ worth of short requests, at most 15,000 records', () => {
    expect(roundChunkRecords(1000, 500)).toBe(10_000);
    expect(roundChunkRecords(5000, 500)).toBe(15_000);
  });

  it('takes fewer records as their requests grow, down to one job’s worth', () => {
    expect(roundChunkRecords(1000, 2300)).toBe(Math.floor(ROUND_CHUNK_BYTES / 2300));
    expect(roundChunkRecords(1000, 2300) * 2300).toBeLessThanOrEqual(ROUND_CHUNK_BYTES);
    expect(roundChunkRecords(5000, 2300)).toBe(5000);
    expect(roundChunkRecords(1000, 3_000_000)).toBe(1000);
  });
});
