/**
 * The keywords Gemini's `responseJsonSchema` supports, as documented in @google/genai's
 * GenerationConfig.responseJsonSchema. Anything else is dropped before sending; outputs are still
 * validated locally against the full schema, so a dropped constraint only loosens the model's guide.
 */
const SUPPORTED = new Set([
  '$id',
  '$defs',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
]);

type SchemaNode = Record<string, unknown>;

/**
 * The response schema as sent to Gemini: a deep copy keeping only supported keywords (so `$schema`,
 * `$comment`, `default`, `examples`, `pattern`… go), with draft-07 spellings rewritten to their
 * supported forms: `definitions` → `$defs` (and refs to them), tuple `items` → `prefixItems`,
 * `const` → a one-member `enum`. A sub-schema with `$ref` keeps only `$` keywords, as Gemini requires.
 */
export function jsonSchemaForModel(schema: unknown): unknown {
  return clean(schema);
}

function clean(schema: unknown): unknown {
  if (typeof schema === 'boolean') return schema;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return structuredClone(schema);
  const node = schema as SchemaNode;
  const out: SchemaNode = {};
  if (typeof node.$ref === 'string') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') out.$ref = rewriteRef(value as string);
      else if (key === '$defs' || key === 'definitions') mergeDefinitions(out, value);
      else if (key === '$id' || key === '$anchor') out[key] = value;
    }
    return out;
  }
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case 'properties':
        out.properties = mapValues(value);
        break;
      case '$defs':
      case 'definitions':
        mergeDefinitions(out, value);
        break;
      case 'items':
        if (Array.isArray(value)) out.prefixItems = value.map(clean);
        else out.items = clean(value);
        break;
      case 'additionalItems':
        // Draft-07 tuples: the schema for items past the tuple becomes `items` beside `prefixItems`.
        if (Array.isArray(node.items) && value !== undefined) out.items = clean(value);
        break;
      case 'prefixItems':
      case 'anyOf':
      case 'oneOf':
        if (Array.isArray(value)) out[key] = value.map(clean);
        break;
      case 'additionalProperties':
        out.additionalProperties = clean(value);
        break;
      case 'const':
        if (node.enum === undefined && (typeof value === 'string' || typeof value === 'number'))
          out.enum = [value];
        break;
      default:
        if (SUPPORTED.has(key)) out[key] = structuredClone(value);
    }
  }
  return out;
}

function mapValues(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return structuredClone(value);
  const out: SchemaNode = {};
  for (const [name, schema] of Object.entries(value as SchemaNode)) out[name] = clean(schema);
  return out;
}

function mergeDefinitions(out: SchemaNode, value: unknown): void {
  const cleaned = mapValues(value);
  if (cleaned === null || typeof cleaned !== 'object' || Array.isArray(cleaned)) return;
  out.$defs = { ...((out.$defs as SchemaNode | undefined) ?? {}), ...(cleaned as SchemaNode) };
}

function rewriteRef(ref: string): string {
  return ref.startsWith('#/definitions/') ? `#/$defs/${ref.slice('#/definitions/'.length)}` : ref;
}
