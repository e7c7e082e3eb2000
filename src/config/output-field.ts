/**
 * Why `field` (a dot path into an output: `context.field`, `outputs.assemble.field`) can never be
 * found in an output of the response schema, or undefined when it can (or when the schema cannot
 * tell: a reference, a union, open properties). A misspelt context field gave every record a null
 * context without a word; a misspelt assembly field, documents of nothing but gap marks.
 */
export function outputFieldProblem(schema: object, field: string, consequence: string): string | undefined {
  let node: unknown = schema;
  const walked: string[] = [];
  for (const key of field.split('.')) {
    const properties = closedProperties(node);
    if (!properties) return undefined;
    if (!Object.hasOwn(properties, key)) {
      const where =
        walked.length === 0 ? 'the response schema' : `"${walked.join('.')}" in the response schema`;
      const names = Object.keys(properties);
      const has = names.length === 0 ? 'no fields' : `the fields ${names.join(', ')}`;
      return `"${field}" is not a field of the outputs: ${where} has ${has}, so ${consequence}`;
    }
    node = properties[key];
    walked.push(key);
  }
  return undefined;
}

/** The properties of an object schema that allows no others, else undefined (nothing can be told). */
function closedProperties(node: unknown): Record<string, unknown> | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const schema = node as Record<string, unknown>;
  if ('$ref' in schema || 'anyOf' in schema || 'oneOf' in schema || 'allOf' in schema) return undefined;
  const { properties, additionalProperties } = schema;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return undefined;
  // Unset, JSON Schema allows other fields, but Gemini's constrained decoding writes only those listed.
  if (additionalProperties !== undefined && additionalProperties !== false) return undefined;
  return properties as Record<string, unknown>;
}
