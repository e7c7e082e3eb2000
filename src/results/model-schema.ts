/**
 * The keywords Gemini's `responseJsonSchema` supports, as documented in @google/genai's
 * GenerationConfig.responseJsonSchema. `modelSchemaProblems` refuses any other keyword that would
 * change what is valid (checked when the config loads, before anything is paid for), so what is
 * dropped before sending is only annotation (ANNOTATIONS) that constrains nothing.
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

/** Keywords that describe and constrain nothing: dropped before sending, without complaint. */
const ANNOTATIONS = new Set([
  '$schema',
  '$comment',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/** Draft-07 spellings `jsonSchemaForModel` rewrites to supported ones. */
const REWRITTEN = new Set(['definitions', 'const', 'additionalItems']);

/** Where a schema's sub-schemas are: one schema, a list of them, or a map of them. */
const SUBSCHEMAS: Record<string, 'one' | 'list' | 'map'> = {
  properties: 'map',
  $defs: 'map',
  definitions: 'map',
  items: 'one',
  additionalItems: 'one',
  additionalProperties: 'one',
  prefixItems: 'list',
  anyOf: 'list',
  oneOf: 'list',
};

/** A keyword Gemini would not accept, and where it is (a JSON pointer to the keyword). */
export interface ModelSchemaProblem {
  keyword: string;
  pointer: string;
  reason: string;
}

/**
 * Every keyword of `schema` that Gemini's responseJsonSchema does not accept and that would change
 * what is valid: dropping it would leave the model unguided while the outputs are still validated
 * against it, so they would fail after being paid for. Annotations (`$schema`, `$comment`,
 * `examples`, `default`, `x-…`) and draft-07 spellings with a supported equivalent are not problems.
 */
export function modelSchemaProblems(schema: unknown): ModelSchemaProblem[] {
  const problems: ModelSchemaProblem[] = [];
  visit(schema, '', problems);
  return problems;
}

function visit(schema: unknown, pointer: string, problems: ModelSchemaProblem[]): void {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return;
  const node = schema as SchemaNode;
  const hasRef = typeof node.$ref === 'string';
  for (const [keyword, value] of Object.entries(node)) {
    const at = `${pointer}/${escapePointer(keyword)}`;
    const problem = (reason: string) => problems.push({ keyword, pointer: at, reason });
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-')) continue;
    if (hasRef && !keyword.startsWith('$') && keyword !== 'definitions') {
      if (keyword !== 'title' && keyword !== 'description')
        problem('beside $ref Gemini accepts only keywords starting with $');
      continue;
    }
    if (!SUPPORTED.has(keyword) && !REWRITTEN.has(keyword)) {
      problem("it is not in Gemini's responseJsonSchema subset");
      continue;
    }
    if (keyword === 'enum' && Array.isArray(value) && value.some((item) => !isStringOrNumber(item)))
      problem('Gemini accepts enum values that are strings or numbers only');
    if (keyword === 'const' && !isStringOrNumber(value))
      problem('Gemini takes const only as a one-value enum of a string or a number');
    for (const [child, where] of subschemas(SUBSCHEMAS[keyword], value, at)) visit(child, where, problems);
  }
}

/** The sub-schemas under a keyword, each with its pointer (a tuple's `items` is a list). */
function subschemas(
  kind: 'one' | 'list' | 'map' | undefined,
  value: unknown,
  at: string,
): Array<[unknown, string]> {
  if (kind === undefined || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return kind === 'map' ? [] : value.map((item, index) => [item, `${at}/${index}`]);
  if (kind === 'map')
    return Object.entries(value).map(([name, item]) => [item, `${at}/${escapePointer(name)}`]);
  return kind === 'one' ? [[value, at]] : [];
}

function isStringOrNumber(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number';
}

/** RFC 6901: `~` and `/` in a key are written `~0` and `~1`. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

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
