import { pick, randomInteger, type Random } from '../seeded-random.js';
import { sampleInteger, sampleNumber } from './number-sample.js';
import { isNullOnly, merge, resolveRef, withoutKeys } from './schema-references.js';
import { sampleString } from './string-sample.js';
import { isJsonObject } from '../json-object.js';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Schema = Record<string, unknown>;

interface Context {
  root: unknown;
  digest: string;
  random: Random;
}

/** Beyond this nesting, optional properties and optional array items are left out, so recursive schemas end. */
const MAX_DEPTH = 8;

/** A JSON Schema node: any JSON object. */
const isSchema: (value: unknown) => value is Schema = isJsonObject;

/**
 * A value that validates against `schema` (the JSON Schema 2020-12 subset Gemini accepts): every
 * property is present, arrays hold 1–3 items, strings embed `label·digest`, numbers respect their
 * bounds, enums pick a member, anyOf/oneOf take the first non-null branch, $ref/$defs are resolved.
 */
export function sampleJsonSchema(schema: unknown, digest: string, random: Random, label = 'value'): Json {
  return sample(schema, label, 0, { root: schema, digest, random });
}

/**
 * `suffix` marks the position among array items ("_2" for the second), so sibling items differ:
 * courses[1].code becomes "code_2·digest".
 */
function sample(schema: unknown, label: string, depth: number, ctx: Context, suffix = ''): Json {
  if (schema === true || schema === undefined)
    return sampleString({ label: label + suffix, digest: ctx.digest }, ctx.random);
  if (!isSchema(schema)) return null;
  if (typeof schema.$ref === 'string') {
    if (depth > MAX_DEPTH * 2) return null;
    return sample(
      merge([resolveRef(schema.$ref, ctx.root), withoutKeys(schema, '$ref')]),
      label,
      depth + 1,
      ctx,
      suffix,
    );
  }
  if (Array.isArray(schema.allOf))
    return sample(merge([withoutKeys(schema, 'allOf'), ...schema.allOf]), label, depth, ctx, suffix);
  if ('const' in schema) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    const members = schema.enum.filter((member) => member !== null);
    return pick(ctx.random, members.length > 0 ? members : schema.enum) as Json;
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
      return ctx.random() < 0.5;
    case 'integer':
      return sampleInteger(schema, ctx.random);
    case 'number':
      return sampleNumber(schema, ctx.random);
    case 'array':
      return sampleArray(schema, label, depth, ctx, suffix);
    case 'object':
      return sampleObject(schema, label, depth, ctx, suffix);
    default:
      return sampleString(
        {
          label: label + suffix,
          digest: ctx.digest,
          format: schema.format,
          pattern: schema.pattern,
          minLength: schema.minLength,
          maxLength: schema.maxLength,
        },
        ctx.random,
      );
  }
}

/** The type to generate: the first non-null declared type, else inferred from the keywords present. */
function typeOf(schema: Schema): string {
  const declared = Array.isArray(schema.type)
    ? (schema.type.find((t) => t !== 'null') ?? schema.type[0])
    : schema.type;
  if (typeof declared === 'string') return declared.toLowerCase();
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
  if ('items' in schema || 'prefixItems' in schema) return 'array';
  if ('minimum' in schema || 'maximum' in schema) return 'number';
  return 'string';
}

function count(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

function sampleArray(schema: Schema, label: string, depth: number, ctx: Context, suffix: string): Json[] {
  // Draft 2019 tuples (`items: [...]`) read as 2020-12 prefixItems.
  const prefix = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? schema.items
      : [];
  const rest: unknown = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
  const minItems = count(schema.minItems) ?? 0;
  const maxItems = count(schema.maxItems) ?? Infinity;
  let size = Math.min(Math.max(depth > MAX_DEPTH ? 0 : randomInteger(ctx.random, 1, 3), minItems), maxItems);
  if (rest === false) size = Math.min(size, prefix.length);
  const items: Json[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; items.length < size && attempt < size * 8 + 8; attempt++) {
    const index = items.length;
    const item = sample(
      index < prefix.length ? prefix[index] : rest,
      label,
      depth + 1,
      ctx,
      attempt === 0 ? suffix : `${suffix}_${attempt + 1}`,
    );
    if (schema.uniqueItems === true) {
      const key = JSON.stringify(item);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    items.push(item);
  }
  return items;
}

function sampleObject(
  schema: Schema,
  label: string,
  depth: number,
  ctx: Context,
  suffix: string,
): { [key: string]: Json } {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(
    Array.isArray(schema.required)
      ? schema.required.filter((name): name is string => typeof name === 'string')
      : [],
  );
  const ordering = Array.isArray(schema.propertyOrdering)
    ? schema.propertyOrdering.filter((name): name is string => typeof name === 'string' && name in properties)
    : [];
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
    if (!(name in out))
      out[name] = sample(isSchema(extra) ? extra : { type: 'string' }, name, depth + 1, ctx, suffix);
  }
  return out;
}
