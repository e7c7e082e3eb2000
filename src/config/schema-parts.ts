import { z } from 'zod';
import { parseDuration } from './duration.js';

// Value schemas with messages written for people: the loader adds the key, the line and the value.

/** An integer of at least `min`. */
export function wholeNumber(min: number) {
  const error = `expected a whole number >= ${min}`;
  return z.int({ error }).min(min, { error });
}

/** A non-empty string. */
export function text(what = 'a non-empty string') {
  return z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
}

/** Any function (TypeScript / JavaScript configs only). */
export function callable<T>() {
  return z.custom<T>((value) => typeof value === 'function', { error: 'expected a function' });
}

const DURATION_HINT = 'a number of milliseconds or a duration like "250ms", "30s", "5m", "1h", "7d"';

/** Milliseconds of at least `minMs`, written as a number of ms or as `250ms` / `30s` / `5m` / `1h` / `7d`. */
function durationFrom(minMs: number) {
  return z
    .union([z.number(), z.string()], { error: `expected ${DURATION_HINT}` })
    .transform((value, context) => {
      const ms = typeof value === 'number' ? value : parseDuration(value);
      if (ms === undefined || !Number.isFinite(ms) || ms < minMs) {
        context.addIssue({
          code: 'custom',
          message: `expected ${DURATION_HINT} (at least ${minMs} ms)`,
        });
        return z.NEVER;
      }
      return Math.round(ms);
    });
}

/** Milliseconds, written as a number of ms or as `250ms` / `30s` / `5m` / `1h` / `7d`. */
export const duration = durationFrom(1);

/** A `duration` that may be 0 (`0`, `0s`): for a wait that 0 skips. */
export const durationOrZero = durationFrom(0);

/** A `duration` of at most `maxMs`; `most` writes the limit as a user would ("24h") and says why it is one. */
export function durationAtMost(maxMs: number, most: string) {
  return duration.refine((ms) => ms <= maxMs, { error: `expected a duration of at most ${most}` });
}

/** Marks an object that is a zod schema (any zod 4 copy), so a TS config may give one as response schema. */
export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}
