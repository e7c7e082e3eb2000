import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { createValidator, SchemaError } from '../results/index.js';
import { jsonErrorPosition } from './json-syntax.js';
import { isZodSchema } from './schema-parts.js';

/** A response schema, or why it cannot be used. */
export type SchemaOutcome =
  { schema: object } | { problem: string; syntax?: { line: number; column: number } };

/** Reads and parses a JSON Schema file, then checks it compiles. */
export async function readResponseSchemaFile(path: string): Promise<SchemaOutcome> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const position = jsonErrorPosition(text);
    if (!position) return { problem: `invalid JSON: ${(error as Error).message.split('\n')[0]}` };
    return {
      problem: `invalid JSON: unexpected ${position.found}`,
      syntax: { line: position.line, column: position.column },
    };
  }
  return checkResponseSchema(parsed);
}

/** Accepts a JSON Schema object or a zod schema (converted to JSON Schema), and checks it compiles. */
export function checkResponseSchema(value: unknown): SchemaOutcome {
  let schema: unknown = value;
  if (isZodSchema(value)) {
    try {
      // Draft 7 without `$schema`: the dialect every consumer (Ajv's default, Gemini) reads.
      const { $schema: _dialect, ...converted } = z.toJSONSchema(value, { target: 'draft-7' });
      schema = converted;
    } catch (error) {
      return { problem: `this zod schema has no JSON Schema equivalent: ${(error as Error).message}` };
    }
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    return { problem: 'a JSON Schema must be an object' };
  const problem = compileProblem(schema);
  return problem ? { problem } : { schema };
}

/** Compiles it exactly as the runner's output validator will, so a schema that loads also validates. */
function compileProblem(schema: object): string | undefined {
  try {
    createValidator(schema);
    return undefined;
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    return `not a valid JSON Schema: ${error.cause instanceof Error ? error.cause.message : error.message}`;
  }
}
