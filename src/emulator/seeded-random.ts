/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A deterministic generator (mulberry32) for one purpose. Each purpose gets its own stream (`salt`),
 * so e.g. drawing a turnaround does not shift which requests get a fault.
 */
export function seededRandom(seed: number, salt: string): Random {
  let state = (Math.trunc(seed) ^ hash(salt)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [min, max]. */
export function randomBetween(random: Random, min: number, max: number): number {
  return Math.floor(min + random() * (max - min + 1));
}

/** Fisher–Yates in place. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = items[i] as T;
    items[i] = items[j] as T;
    items[j] = swap;
  }
  return items;
}

/** A short lowercase id like Google's (`batches/abc123...`). */
export function randomId(random: Random, length = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
