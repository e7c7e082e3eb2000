import { hash32 } from './digest.js';

/**
 * A small seeded PRNG (mulberry32). The synthetic model must be deterministic per
 * (model, request, seed), so it never touches Math.random.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A generator seeded from a number and any text (the request), so equal inputs draw equal values. */
  static from(seed: number, text: string): SeededRandom {
    return new SeededRandom(hash32(`${seed}\u0000${text}`));
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both inclusive). */
  integer(min: number, max: number): number {
    if (max <= min) return min;
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.integer(0, items.length - 1)];
    if (item === undefined) throw new RangeError('SeededRandom.pick needs a non-empty list');
    return item;
  }
}
