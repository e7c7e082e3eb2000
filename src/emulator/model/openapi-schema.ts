/**
 * Converts Gemini's OpenAPI-style `responseSchema` (type: 'OBJECT', nullable, int64 counts sent as
 * strings, propertyOrdering) into the JSON Schema the sampler understands. `propertyOrdering` is
 * kept: the sampler honours it, as Gemini orders properties by it.
 */
export function openApiToJsonSchema(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return schema;
  const source = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || value === null || key === 'nullable') continue;
    if (key === 'type') {
      const type = typeof value === 'string' ? value.toLowerCase() : value;
      if (type !== 'type_unspecified') out.type = type;
    } else if (key === 'properties' && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, sub]) => [
          name,
          openApiToJsonSchema(sub),
        ]),
      );
    } else if (key === 'items') {
      out.items = openApiToJsonSchema(value);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map(openApiToJsonSchema);
    } else if (COUNTS.has(key)) {
      // proto int64 fields arrive as JSON strings ("minItems": "1").
      out[key] = Number(value);
    } else if (key === 'format' && value === 'enum') {
      // OpenAPI marks string enums with format 'enum'; JSON Schema has no such format.
    } else {
      out[key] = value;
    }
  }
  if (source.nullable === true) makeNullable(out);
  return out;
}

const COUNTS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']);

function makeNullable(schema: Record<string, unknown>): void {
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  else if (Array.isArray(schema.anyOf)) schema.anyOf = [...(schema.anyOf as unknown[]), { type: 'null' }];
  if (Array.isArray(schema.enum) && !schema.enum.includes(null))
    schema.enum = [...(schema.enum as unknown[]), null];
}
