import type { Random } from './seeded-random.js';
import { randomInteger } from './seeded-random.js';

/**
 * Emulated batch turnaround: uniform between `min` and `max`, or, with `median`, heavy-tailed as
 * users report it (most jobs in tens of minutes, some taking many hours): log-normal around the
 * median, its spread set so that `max` is the 99th percentile, clamped to [min, max].
 */
export interface TurnaroundRange {
  min: number;
  max: number;
  median?: number;
}

/** z of the 99th percentile of a standard normal. */
const Z99 = 2.326;

/** One job's turnaround in emulated ms. */
export function drawTurnaround(random: Random, range: TurnaroundRange): number {
  const { min, max, median } = range;
  if (median === undefined || max <= min) return randomInteger(random, min, max);
  const sigma = Math.log(max / median) / Z99;
  // Box-Muller from two uniforms of the seeded stream (1 - u keeps the logarithm finite).
  const u = 1 - random();
  const v = random();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.round(Math.min(max, Math.max(min, median * Math.exp(sigma * normal))));
}
