import { describe, expect, it } from 'vitest';
import {
  contentRandom,
  pick,
  randomId,
  randomInteger,
  seededRandom,
  shuffle,
} from '../../src/emulator/seeded-random.js';

const draws = (random: () => number, n = 5) => Array.from({ length: n }, () => random());

describe('seeded randomness', () => {
  it('replays a stream for the same seed and purpose, and separates purposes and seeds', () => {
    expect(draws(seededRandom(3, 'turnaround'))).toEqual(draws(seededRandom(3, 'turnaround')));
    expect(draws(seededRandom(3, 'turnaround'))).not.toEqual(draws(seededRandom(3, 'batch-ids')));
    expect(draws(seededRandom(3, 'turnaround'))).not.toEqual(draws(seededRandom(4, 'turnaround')));
    expect(draws(contentRandom(1, 'a request'))).toEqual(draws(contentRandom(1, 'a request')));
    expect(draws(contentRandom(1, 'a request'))).not.toEqual(draws(contentRandom(1, 'a request!')));
    for (const value of draws(seededRandom(9, 'range'), 1000)) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });

  it('draws integers within bounds, and nothing when the range holds one value', () => {
    const random = seededRandom(1, 'integers');
    const seen = new Set(Array.from({ length: 200 }, () => randomInteger(random, 2, 4)));
    expect([...seen].sort()).toEqual([2, 3, 4]);
    let calls = 0;
    const counting = () => (calls++, 0.5);
    expect(randomInteger(counting, 7, 7)).toBe(7);
    expect(pick(counting, ['only'])).toBe('only');
    expect(calls).toBe(0);
    expect(() => pick(counting, [])).toThrow(RangeError);
  });

  it('shuffles in place to a permutation, and makes ids of the asked length', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = shuffle([...items], seededRandom(2, 'order'));
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(randomId(seededRandom(2, 'ids'), 16)).toMatch(/^[a-z0-9]{16}$/);
  });

  it('never gives two or more items back in their own order, whatever the draw', () => {
    // 2 items: every other seed draws "no swap"; 5 items: one seed in 120 draws the identity.
    for (const length of [2, 3, 5]) {
      const items = Array.from({ length }, (_, i) => i);
      for (let seed = 0; seed < 400; seed++) {
        const shuffled = shuffle([...items], seededRandom(seed, `order:${length}`));
        expect(shuffled, `seed ${seed}`).not.toEqual(items);
        expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
      }
    }
    expect(shuffle([7], seededRandom(1, 'one'))).toEqual([7]);
    expect(shuffle([], seededRandom(1, 'none'))).toEqual([]);
  });
});
