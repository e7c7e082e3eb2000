import type { SeededRandom } from './random.js';
import { sampleString } from './string-sample.js';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Schema = Record<string, unknown>;

interface Context {
  root: unknown;
  digest: string;
  random: SeededRandom;
}

/** Beyond this nesting, optional properties and optional array items are left out, so recursive schemas end. */
const MAX_DEPTH = 8;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A value that validates against `schema` (the JSON Schema 2020-12 subset Gemini accepts): every
 * property is present, arrays hold 1–3 items, strings embed `label·digest`, numbers respect their
 * bounds, enums pick a member, anyOf/oneOf take the first non-null branch, $ref/$defs are resolved.
 */
export function sampleJsonSchema(schema: unknown, digest: string, random: SeededRandom, label = 'value'): Json {
  return sample(schema, label, 0, { root: schema, digest, random });
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter((segment) => segment.length > 0)) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isSchema(node) ? node[segment] : Array.isArray(node) ? node[Number(segment)] : undefined;
  }
  return node ?? {};
}

/** Merges allOf members (and $ref targets with their siblings): properties merge, required unions. */
function merge(parts: unknown[]): Schema {
  const out: Schema = {};
  for (const part of parts) {
    if (!isSchema(part)) continue;
    for (const [key, value] of Object.entries(part)) {
      if (key === 'properties' && isSchema(value) && isSchema(out.properties)) {
        const properties: Schema = { ...out.properties };
        for (const [name, sub] of Object.entries(value)) properties[name] = name in properties ? { allOf: [properties[name], sub] } : sub;
        out.properties = properties;
      } else if (key === 'required' && Array.isArray(value) && Array.isArray(out.required)) {
        out.required = [...new Set([...(out.required as unknown[]), ...value])];
      } else if ((key === 'minimum' || key === 'minLength' || key === 'minItems') && typeof out[key] === 'number') {
        out[key] = Math.max(out[key] as number, Number(value));
      } else if ((key === 'maximum' || key === 'maxLength' || key === 'maxItems') && typeof out[key] === 'number') {
        out[key] = Math.min(out[key] as number, Number(value));
      } else {
        out[key] = value;
      }
    }
  }
  return out;
}

function isNullOnly(schema: unknown): boolean {
  return isSchema(schema) && (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.every((t) => t === 'null')));
}

function withoutKeys(schema: Schema, ...keys: string[]): Schema {
  const out = { ...schema };
  for (const key of keys) delete out[key];
  return out;
}

/**
 * `suffix` marks the position among array items ("_2" for the second), so sibling items differ:
 * courses[1].code becomes "code_2·digest".
 */
function sample(schema: unknown, label: string, depth: number, ctx: Context, suffix = ''): Json {
  if (schema === true || schema === undefined) return sampleString({ label: label + suffix, digest: ctx.digest }, ctx.random);
  if (!isSchema(schema)) return null;
  if (typeof schema.$ref === 'string') {
    if (depth > MAX_DEPTH * 2) return null;
    return sample(merge([resolveRef(schema.$ref, ctx.root), withoutKeys(schema, '$ref')]), label, depth + 1, ctx, suffix);
  }
  if (Array.isArray(schema.allOf)) return sample(merge([withoutKeys(schema, 'allOf'), ...schema.allOf]), label, depth, ctx, suffix);
  if ('const' in schema) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    const members = schema.enum.filter((member) => member !== null);
    return ctx.random.pick(members.length > 0 ? members : schema.enum) as Json;
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (!Array.isArray(branches) || branches.length === 0) continue;
    const branch = branches.find((candidate) => !isNullOnly(candidate)) ?? branches[0];
    return sample(merge([withoutKeys(schema, key), branch]), label, depth, ctx, suffix);
  }
  switch (typeOf(schema)) {
    case 'null':
      return null;
    case 'boolean':
      return ctx.random.next() < 0.5;
    case 'integer':
      return sampleInteger(schema, ctx.random);
    case 'number':
      return sampleNumber(schema, ctx.random);
    case 'array':
      return sampleArray(schema, label, depth, ctx, suffix);
    case 'object':
      return sampleObject(schema, label, depth, ctx, suffix);
    default:
      return sampleString({ label: label + suffix, digest: ctx.digest, format: schema.format, pattern: schema.pattern, minLength: schema.minLength, maxLength: schema.maxLength }, ctx.random);
  }
}

/** The type to generate: the first non-null declared type, else inferred from the keywords present. */
function typeOf(schema: Schema): string {
  const declared = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type;
  if (typeof declared === 'string') return declared.toLowerCase();
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
  if ('items' in schema || 'prefixItems' in schema) return 'array';
  if ('minimum' in schema || 'maximum' in schema) return 'number';
  return 'string';
}

/** Numeric bounds, honouring draft 2020 (numeric) and draft 4 (boolean) exclusive bounds. */
function bounds(schema: Schema, integer: boolean): { low: number; high: number } {
  const step = integer ? 1 : 0.01;
  let low = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  let high = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low ?? -Infinity, schema.exclusiveMinimum + step);
  else if (schema.exclusiveMinimum === true && low !== undefined) low += step;
  if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high ?? Infinity, schema.exclusiveMaximum - step);
  else if (schema.exclusiveMaximum === true && high !== undefined) high -= step;
  if (integer) {
    low = low === undefined ? undefined : Math.ceil(low);
    high = high === undefined ? undefined : Math.floor(high);
  }
  if (low === undefined && high === undefined) return { low: 1, high: 100 };
  if (low === undefined) return { low: (high ?? 0) - 100, high: high ?? 0 };
  if (high === undefined) return { low, high: low + 100 };
  return { low, high: Math.max(low, high) };
}

function sampleInteger(schema: Schema, random: SeededRandom): number {
  const { low, high } = bounds(schema, true);
  const multiple = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : 1;
  const first = Math.ceil(low / multiple);
  const last = Math.floor(high / multiple);
  return last < first ? low : random.integer(first, last) * multiple;
}

function sampleNumber(schema: Schema, random: SeededRandom): number {
  const { low, high } = bounds(schema, false);
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
    const multiple = schema.multipleOf;
    const first = Math.ceil(low / multiple);
    const last = Math.floor(high / multiple);
    const start = random.integer(first, last);
    // Validators test value / multipleOf for an integer in floating point (0.07 / 0.01 is not 7),
    // so walk from a seeded multiple to the first one that divides exactly.
    for (let step = 0; step <= last - first && step < 1000; step++) {
      const k = first + ((start - first + step) % (last - first + 1));
      const value = Number((k * multiple).toPrecision(12));
      if (Number.isInteger(value / multiple) && value >= low && value <= high) return value;
    }
    return Number((first * multiple).toPrecision(12));
  }
  const value = Math.round((low + random.next() * (high - low)) * 100) / 100;
  return value >= low && value <= high ? value : low;
}

function count(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

function sampleArray(schema: Schema, label: string, depth: number, ctx: Context, suffix: string): Json[] {
  // Draft 2019 tuples (`items: [...]`) read as 2020-12 prefixItems.
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : [];
  const rest: unknown = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
  const minItems = count(schema.minItems) ?? 0;
  const maxItems = count(schema.maxItems) ?? Infinity;
  let size = Math.min(Math.max(depth > MAX_DEPTH ? 0 : ctx.random.integer(1, 3), minItems), maxItems);
  if (rest === false) size = Math.min(size, prefix.length);
  const items: Json[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; items.length < size && attempt < size * 8 + 8; attempt++) {
    const index = items.length;
    const item = sample(index < prefix.length ? prefix[index] : rest, label, depth + 1, ctx, attempt === 0 ? suffix : `${suffix}_${attempt + 1}`);
    if (schema.uniqueItems === true) {
      const key = JSON.stringify(item);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    items.push(item);
  }
  return items;
}

function sampleObject(schema: Schema, label: string, depth: number, ctx: Context, suffix: string): { [key: string]: Json } {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : []);
  const ordering = Array.isArray(schema.propertyOrdering) ? schema.propertyOrdering.filter((name): name is string => typeof name === 'string' && name in properties) : [];
  const names = [...new Set([...ordering, ...Object.keys(properties), ...required])];
  const extra = schema.additionalProperties;
  const out: { [key: string]: Json } = {};
  for (const name of names) {
    if (depth > MAX_DEPTH && !required.has(name)) continue;
    const sub = name in properties ? properties[name] : isSchema(extra) ? extra : { type: 'string' };
    out[name] = sample(sub, name, depth + 1, ctx, suffix);
  }
  const maxProperties = count(schema.maxProperties);
  for (const name of Object.keys(out).reverse()) {
    if (maxProperties === undefined || Object.keys(out).length <= maxProperties) break;
    if (!required.has(name)) delete out[name];
  }
  const minProperties = count(schema.minProperties) ?? 0;
  for (let n = 1; Object.keys(out).length < minProperties && extra !== false && n < 100; n++) {
    const name = `${label}_extra_${n}`;
    if (!(name in out)) out[name] = sample(isSchema(extra) ? extra : { type: 'string' }, name, depth + 1, ctx, suffix);
  }
  return out;
}
