import { isJsonObject } from '../json-object.js';
/**
 * Schema composition for the sampler: JSON-pointer $ref resolution and merging of allOf members
 * (and of a $ref target with the keywords beside it).
 */

type Schema = Record<string, unknown>;

/** A JSON Schema node: any JSON object. */
const isSchema: (value: unknown) => value is Schema = isJsonObject;

/** The schema a local `#/...` reference points to ({} when it points nowhere). */
export function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const raw of ref
    .slice(1)
    .split('/')
    .filter((segment) => segment.length > 0)) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isSchema(node) ? node[segment] : Array.isArray(node) ? node[Number(segment)] : undefined;
  }
  return node ?? {};
}

/** Merges allOf members (and $ref targets with their siblings): properties merge, required unions. */
export function merge(parts: unknown[]): Schema {
  const out: Schema = {};
  for (const part of parts) {
    if (!isSchema(part)) continue;
    for (const [key, value] of Object.entries(part)) {
      if (key === 'properties' && isSchema(value) && isSchema(out.properties)) {
        const properties: Schema = { ...out.properties };
        for (const [name, sub] of Object.entries(value))
          properties[name] = name in properties ? { allOf: [properties[name], sub] } : sub;
        out.properties = properties;
      } else if (key === 'required' && Array.isArray(value) && Array.isArray(out.required)) {
        out.required = [...new Set([...(out.required as unknown[]), ...value])];
      } else if (
        (key === 'minimum' || key === 'minLength' || key === 'minItems') &&
        typeof out[key] === 'number'
      ) {
        out[key] = Math.max(out[key] as number, Number(value));
      } else if (
        (key === 'maximum' || key === 'maxLength' || key === 'maxItems') &&
        typeof out[key] === 'number'
      ) {
        out[key] = Math.min(out[key] as number, Number(value));
      } else {
        out[key] = value;
      }
    }
  }
  return out;
}

/** True for a branch that only allows null (skipped when choosing an anyOf/oneOf branch). */
export function isNullOnly(schema: unknown): boolean {
  return (
    isSchema(schema) &&
    (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.every((t) => t === 'null')))
  );
}

/** A copy of the schema without the given keywords. */
export function withoutKeys(schema: Schema, ...keys: string[]): Schema {
  const out = { ...schema };
  for (const key of keys) delete out[key];
  return out;
}
