import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/emulator/options.js';
import { seededRandom } from '../../src/emulator/seeded-random.js';
import { drawTurnaround } from '../../src/emulator/turnaround.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

describe('emulated batch turnaround', () => {
  it('is heavy-tailed with a median: log-normal around it, max its 99th percentile, clamped', () => {
    const random = seededRandom(7, 'turnaround');
    const range = { min: 5 * MINUTE, max: 24 * HOUR, median: 40 * MINUTE };
    const draws = Array.from({ length: 20_000 }, () => drawTurnaround(random, range)).sort((a, b) => a - b);
    expect(draws[0]).toBeGreaterThanOrEqual(range.min);
    expect(draws.at(-1)).toBeLessThanOrEqual(range.max);
    expect(quantile(draws, 0.5) / range.median).toBeGreaterThan(0.93);
    expect(quantile(draws, 0.5) / range.median).toBeLessThan(1.07);
    // Tens of minutes typically, many hours for the slowest one in a hundred.
    expect(quantile(draws, 0.99)).toBeGreaterThan(16 * HOUR);
    expect(quantile(draws, 0.9)).toBeGreaterThan(3 * HOUR);
  });

  it('stays uniform without a median', () => {
    const random = seededRandom(7, 'turnaround');
    const draws = Array.from({ length: 10_000 }, () => drawTurnaround(random, { min: 0, max: 1000 }));
    const mean = draws.reduce((sum, value) => sum + value, 0) / draws.length;
    expect(mean).toBeGreaterThan(480);
    expect(mean).toBeLessThan(520);
  });

  it('refuses a median outside [min, max]', () => {
    expect(() => resolveOptions({ turnaroundMs: { min: 10, max: 20, median: 30 } })).toThrow(
      /turnaroundMs.median/,
    );
  });
});
