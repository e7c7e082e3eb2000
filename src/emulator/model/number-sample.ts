import { randomInteger, type Random } from '../seeded-random.js';

type Schema = Record<string, unknown>;

/** Numeric bounds (±Infinity when open), honouring draft 2020 (numeric) and draft 4 (boolean) exclusive bounds. */
function bounds(schema: Schema, step: number): { low: number; high: number } {
  let low = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
  let high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
  if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low, schema.exclusiveMinimum + step);
  else if (schema.exclusiveMinimum === true) low += step;
  if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high, schema.exclusiveMaximum - step);
  else if (schema.exclusiveMaximum === true) high -= step;
  return { low, high: Math.max(low, high) };
}

/**
 * The part of [low, high] a model would plausibly answer in: 1..100 where the bounds allow it,
 * else the 100 values nearest to the allowed side. Wide bounds (zod's ±2^53 for int()) would
 * otherwise yield values no model writes.
 */
function plausible(low: number, high: number): { low: number; high: number } {
  if (low <= 100 && high >= 1) return { low: Math.max(low, 1), high: Math.min(high, 100) };
  if (high < 1) return { low: Math.max(low, high - 100), high };
  return { low, high: Math.min(high, low + 100) };
}

function multipleOf(schema: Schema): number | undefined {
  return typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : undefined;
}

/** A multiple of `multiple` in [low, high] that a validator accepts (value / multiple is exactly an integer). */
function sampleMultiple(
  multiple: number,
  low: number,
  high: number,
  random: Random,
  integer: boolean,
): number {
  const range = plausible(Math.ceil(low / multiple), Math.floor(high / multiple));
  const start = randomInteger(random, range.low, range.high);
  // 0.07 / 0.01 is not 7 in floating point, so walk from a seeded multiple to one that divides exactly.
  for (let step = 0; step <= range.high - range.low && step < 1000; step++) {
    const k = range.low + ((start - range.low + step) % (range.high - range.low + 1));
    const value = Number((k * multiple).toPrecision(12));
    const exact = Number.isInteger(value / multiple) && (!integer || Number.isInteger(value));
    if (exact && value >= low && value <= high) return value;
  }
  return Number((range.low * multiple).toPrecision(12));
}

/** An integer within the schema's bounds and multipleOf, preferring 1..100. */
export function sampleInteger(schema: Schema, random: Random): number {
  const { low, high } = bounds(schema, 1);
  const multiple = multipleOf(schema);
  if (multiple !== undefined) return sampleMultiple(multiple, low, high, random, true);
  const range = plausible(Math.ceil(low), Math.floor(high));
  return randomInteger(random, range.low, range.high);
}

/** A number within the schema's bounds with two decimals, or an exact multiple of multipleOf. */
export function sampleNumber(schema: Schema, random: Random): number {
  const { low, high } = bounds(schema, 0.01);
  const multiple = multipleOf(schema);
  if (multiple !== undefined) return sampleMultiple(multiple, low, high, random, false);
  const range = plausible(low, high);
  const value = Math.round((range.low + random() * (range.high - range.low)) * 100) / 100;
  return value >= low && value <= high ? value : range.low;
}
