import { readFile } from 'node:fs/promises';
import { withoutByteOrderMark } from '../byte-order-mark.js';
import { utf8Fault } from '../jsonl/utf8.js';
import { z } from 'zod';
import { createValidator, modelSchemaProblems, SchemaError } from '../results/index.js';
import { jsonErrorPosition } from './json-syntax.js';
import { isZodSchema } from './schema-parts.js';

/** A response schema, or why it cannot be used. */
export type SchemaOutcome =
  { schema: object } | { problem: string; syntax?: { line: number; column: number } };

/** Reads and parses a JSON Schema file, then checks it compiles. */
export async function readResponseSchemaFile(path: string): Promise<SchemaOutcome> {
  const bytes = await readFile(path);
  // Not UTF-8 (a Latin-1 description): read as UTF-8, it reached the model as U+FFFD.
  const fault = utf8Fault(bytes);
  if (fault) {
    return {
      problem: `byte ${fault.byteOffset} of the file is not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
      syntax: { line: fault.line, column: fault.byteOffset - bytes.lastIndexOf(0x0a, fault.byteOffset - 1) },
    };
  }
  const text = withoutByteOrderMark(bytes.toString('utf8'));
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
  const problem = compileProblem(schema) ?? geminiProblem(schema);
  return problem ? { problem } : { schema };
}

/** Shown at most, so a schema full of problems still gives a readable message. */
const LISTED_PROBLEMS = 5;

/**
 * Refuses keywords Gemini's responseJsonSchema does not accept: they would be dropped, leaving the
 * model unguided while outputs are still validated against them (failing after being paid for).
 */
function geminiProblem(schema: object): string | undefined {
  const problems = modelSchemaProblems(schema);
  const [first] = problems;
  if (!first) return undefined;
  const listed = problems
    .slice(0, LISTED_PROBLEMS)
    .map((item) => `keyword "${item.keyword}" at ${item.pointer}: ${item.reason}`);
  const more = problems.length > LISTED_PROBLEMS ? `; and ${problems.length - LISTED_PROBLEMS} more` : '';
  return (
    `Gemini would not accept this response schema (${listed.join('; ')}${more}). ` +
    'Remove or rewrite those keywords: Gemini would ignore them, so the model would not be held to ' +
    'them while every output is still validated against them, and fail after being paid for.'
  );
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
