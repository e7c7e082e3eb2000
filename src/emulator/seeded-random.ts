import { hash } from 'node:crypto';

/**
 * The emulator's one source of randomness. Every draw comes from a seeded mulberry32 stream, never
 * Math.random, so a seed replays a run exactly: the same job turnarounds, ids, faults and outputs.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * The stream for one purpose of the emulator (e.g. `'turnaround'`). Each purpose draws from its own
 * stream, so e.g. drawing a turnaround does not shift which requests get a fault.
 */
export function seededRandom(seed: number, purpose: string): Random {
  return mulberry32(Math.trunc(seed) ^ fnv1a(purpose));
}

/**
 * The stream for a piece of content (a model request): equal (seed, text) pairs draw equal values,
 * which makes the synthetic model deterministic per (model, request, seed). Long texts are hashed
 * with SHA-256 so that requests differing anywhere get unrelated streams.
 */
export function contentRandom(seed: number, text: string): Random {
  return mulberry32(hash('sha256', `${seed}\u0000${text}`, 'buffer').readUInt32BE(0));
}

/** An integer in [min, max], both inclusive; `min` without a draw when the range holds one value. */
export function randomInteger(random: Random, min: number, max: number): number {
  if (max <= min) return min;
  return Math.floor(min + random() * (max - min + 1));
}

/** One element of a non-empty list. */
export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[randomInteger(random, 0, items.length - 1)];
  if (item === undefined) throw new RangeError('pick needs a non-empty list');
  return item;
}

/**
 * Shuffles `items` in place (Fisher–Yates) and returns it. Two or more items never come back in
 * their own order: the emulator's batch results are out of input order, so a client that relies on
 * the order fails every time, not once in n! (a test of five inline answers did, one run in 120).
 */
export function shuffle<T>(items: T[], random: Random): T[] {
  const before = items.slice();
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i] as T;
    items[i] = items[j] as T;
    items[j] = swap;
  }
  if (items.length > 1 && items.every((item, index) => item === before[index]))
    items.push(items.shift() as T);
  return items;
}

/** A short lowercase id like Google's (`batches/abc123...`). */
export function randomId(random: Random, length = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/**
 * mulberry32: small, fast and good enough for test data; `state` is any 32-bit number. Exported for
 * tests that draw their own schedules from a seed (the soaks' kills, random situations).
 */
export function mulberry32(state: number): Random {
  let current = state >>> 0;
  return () => {
    current = (current + 0x6d2b79f5) >>> 0;
    let t = current;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a: a cheap 32-bit hash for short purpose names. */
function fnv1a(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
