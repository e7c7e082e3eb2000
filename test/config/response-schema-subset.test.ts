import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkResponseSchema } from '../../src/config/response-schema.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { failure, makeTempFolder, writeMinimalWorkload, type TempFolder } from './temp-folder.js';

function problemOf(schema: unknown): string {
  const outcome = checkResponseSchema(schema);
  expect(outcome).toHaveProperty('problem');
  return (outcome as { problem: string }).problem;
}

// Gemini's responseJsonSchema accepts a documented subset of JSON Schema (@google/genai,
// GenerationConfig.responseJsonSchema). A keyword outside it would be dropped: the model would not be
// held to it while outputs are still validated against it. So it is refused before anything is sent.
describe('response schemas are checked against what Gemini accepts', () => {
  let folder: TempFolder;
  afterEach(() => folder?.remove());

  it('refuses constraint keywords outside the subset, naming each keyword, its JSON pointer and the config line', async () => {
    folder = makeTempFolder();
    folder.write(
      'schema.json',
      JSON.stringify({
        type: 'object',
        properties: {
          code: { type: 'string', pattern: '^[A-Z]+$' },
          'a/b': { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
        },
        allOf: [{ required: ['code'] }],
      }),
    );
    const path = writeMinimalWorkload(folder, '  response_schema_file: schema.json');
    const error = await failure(path);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.key).toBe('model.response_schema_file');
    expect(error.line).toBe(10);
    for (const expected of [
      'keyword "pattern" at /properties/code/pattern',
      'keyword "minLength" at /properties/a~1b/items/minLength',
      'keyword "uniqueItems" at /properties/a~1b/uniqueItems',
      'keyword "allOf" at /allOf',
    ])
      expect(error.message).toContain(expected);
  });

  it('refuses enums of other values than strings and numbers, and constraints beside $ref', () => {
    expect(problemOf({ type: 'boolean', enum: [true, false] })).toContain('keyword "enum" at /enum');
    expect(
      problemOf({
        $defs: { course: { type: 'string' } },
        type: 'object',
        properties: { first: { $ref: '#/$defs/course', minItems: 1, description: 'fine' } },
      }),
    ).toContain('keyword "minItems" at /properties/first/minItems: beside $ref');
  });

  it('accepts the subset, annotations it drops before sending, and draft-07 spellings it rewrites', () => {
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $comment: 'annotations constrain nothing',
      definitions: { course: { type: 'object', properties: { kind: { const: 'course' } } } },
      type: 'object',
      properties: {
        first: { $ref: '#/definitions/course', description: 'a description beside $ref is dropped' },
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false },
        hours: { type: 'integer', minimum: 0, maximum: 40, default: 3, examples: [2], 'x-ui': 'slider' },
        maybe: { anyOf: [{ type: 'string', format: 'date' }, { type: 'null' }] },
      },
      required: ['first'],
      additionalProperties: false,
      propertyOrdering: ['first', 'pair', 'hours', 'maybe'],
    };
    expect(checkResponseSchema(schema)).toEqual({ schema });
  });

  it('puts zod schemas through the same check', () => {
    const accepted = z.object({
      courses: z.array(z.object({ code: z.string(), hours: z.number().int().min(0) })),
      kind: z.literal('page'),
      carry_over: z.string().nullable(),
    });
    expect(checkResponseSchema(accepted)).toHaveProperty('schema');
    const refused = z.object({
      code: z
        .string()
        .min(2)
        .regex(/^[A-Z]+$/),
    });
    const problem = problemOf(refused);
    expect(problem).toContain('keyword "minLength" at /properties/code/minLength');
    expect(problem).toContain('keyword "pattern" at /properties/code/pattern');
  });
});

describe('a schema Gemini would not accept stops a run before anything is sent', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('exits 2 naming the keyword; the emulator billed nothing', async () => {
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 2,
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    writeFileSync(
      `${workload.root}/schema.json`,
      JSON.stringify({
        type: 'object',
        properties: {
          courses: { type: 'array', items: { type: 'string', maxLength: 80 } },
          carry_over: { type: 'string' },
        },
        required: ['courses', 'carry_over'],
      }),
    );
    const result = await runCli(['run', '-c', workload.configPath], {
      env: { GEMINI_API_KEY: 'schema-test-key' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('keyword "maxLength" at /properties/courses/items/maxLength');
    expect(emulator.ledger.entries()).toHaveLength(0);
  });
});
