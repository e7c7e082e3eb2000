import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answerRequest, promptDigest, type ModelAnswer } from '../../../src/emulator/model/index.js';
import { compileSchema } from './schema-validator.js';

/**
 * Schemas as users write them: zod 4 objects turned into JSON Schema with z.toJSONSchema (which
 * adds formats with patterns, additionalProperties: false, tuples, records, recursion via "#").
 * The answer must pass both ajv and zod itself, an independent validator.
 */
const Course = z.object({
  code: z.string().regex(/^[A-Z]{2,4}\d{3}$/),
  title: z.string().min(3).max(80),
  hours_per_week: z.int().min(1).max(40),
  level: z.enum(['intro', 'advanced']),
});

const TreeNode: z.ZodType = z.object({
  name: z.string(),
  get children() {
    return z.array(TreeNode);
  },
});

const CASES: Array<{ name: string; schema: z.ZodType }> = [
  { name: 'catalog page', schema: z.object({ courses: z.array(Course), carry_over: z.string().nullable() }) },
  {
    name: 'contact card with formats',
    schema: z.object({
      email: z.email(),
      id: z.uuid(),
      updated: z.iso.datetime(),
      born: z.iso.date(),
      site: z.url(),
      ip: z.ipv4(),
    }),
  },
  {
    name: 'numbers, optionals and literals',
    schema: z.object({
      count: z.int(),
      share: z.number().gt(0).lt(1),
      price: z.number().multipleOf(0.05).min(1).max(20),
      note: z.string().optional(),
      version: z.literal(2),
      flags: z.array(z.boolean()).min(1).max(2),
    }),
  },
  {
    name: 'unions, records and tuples',
    schema: z.object({
      value: z.union([z.string(), z.number()]),
      shape: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('circle'), radius: z.number().positive() }),
        z.object({ kind: z.literal('square'), side: z.number().positive() }),
      ]),
      scores: z.record(z.string(), z.int().nonnegative()),
      pair: z.tuple([z.string(), z.int()]),
    }),
  },
  { name: 'recursive tree', schema: TreeNode },
  { name: 'top-level array', schema: z.array(z.object({ word: z.string().min(1) })).min(2) },
];

function answerText(answer: ModelAnswer): string {
  if (answer.kind !== 'response') throw new Error('expected a response');
  const candidates = answer.response.candidates as Array<{ content: { parts: Array<{ text: string }> } }>;
  return candidates[0]?.content.parts[0]?.text ?? '';
}

describe('synthetic answers for zod-generated schemas', () => {
  it.each(CASES)('$name: passes ajv and zod for several seeds', ({ schema }) => {
    const jsonSchema = z.toJSONSchema(schema);
    const validate = compileSchema(jsonSchema);
    for (let seed = 1; seed <= 8; seed++) {
      const prompt = `Seed ${seed} prompt`;
      const request = {
        contents: [{ role: 'user', parts: [{ text: prompt }] }],
        generationConfig: { responseMimeType: 'application/json', responseJsonSchema: jsonSchema },
      };
      const text = answerText(answerRequest({ model: 'gemini-2.5-flash', request, key: null, seed }, null));
      const value: unknown = JSON.parse(text);
      expect(validate(value), `${text}\n${JSON.stringify(validate.errors)}`).toBe(true);
      const parsed = schema.safeParse(value);
      expect(parsed.success, `${text}\n${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it('still reveals the prompt in free strings and in format values that can hold it', () => {
    const schema = z.toJSONSchema(
      z.object({ title: z.string(), email: z.email(), id: z.uuid(), site: z.url() }),
    );
    const request = {
      contents: [{ role: 'user', parts: [{ text: 'Which page?' }] }],
      generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
    };
    const value = JSON.parse(
      answerText(answerRequest({ model: 'gemini-2.5-flash', request, key: null, seed: 1 }, null)),
    ) as Record<string, string>;
    for (const text of Object.values(value)) expect(text).toContain(promptDigest('Which page?'));
  });
});
