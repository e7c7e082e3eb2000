import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createValidator, jsonSchemaForModel, SchemaError } from '../../src/results/index.js';

const EXAMPLE: unknown = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'catalogs', 'schema.json'), 'utf8'),
);

describe('createValidator', () => {
  it('accepts everything as text when there is no schema', () => {
    const validator = createValidator(undefined);
    expect(validator.expectsJson).toBe(false);
    expect(validator.validate('anything')).toEqual({ ok: true });
  });

  it('validates against the example schema', () => {
    const validator = createValidator(EXAMPLE);
    expect(validator.expectsJson).toBe(true);
    expect(validator.validate({ courses: [], carry_over: '' })).toEqual({ ok: true });
    const result = validator.validate({ courses: [{ code: 'A' }] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain("/courses/0 must have required property 'title'");
  });

  it('follows $schema: 2020-12 keywords work under 2020-12, draft-07 tuples under draft-07', () => {
    const tuple2020 = createValidator({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }],
      items: false,
    });
    expect(tuple2020.validate(['a'])).toEqual({ ok: true });
    expect(tuple2020.validate(['a', 'b']).ok).toBe(false);
    const tuple07 = createValidator({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'array',
      items: [{ type: 'string' }],
      additionalItems: false,
    });
    expect(tuple07.validate(['a'])).toEqual({ ok: true });
    expect(tuple07.validate(['a', 1]).ok).toBe(false);
  });

  it("tolerates Gemini's propertyOrdering and unknown formats", () => {
    const validator = createValidator({
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' } },
      propertyOrdering: ['at'],
    });
    expect(validator.validate({ at: 'yesterday' })).toEqual({ ok: true });
  });

  it('rejects an invalid schema with CONFIG_SCHEMA_INVALID', () => {
    for (const schema of [
      { type: 'strnig' },
      { type: 'object', required: 'name' },
      { $ref: '#/$defs/missing' },
      'a string',
      [1],
    ]) {
      let caught: unknown;
      try {
        createValidator(schema);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(schema)).toBeInstanceOf(SchemaError);
      expect((caught as SchemaError).code).toBe('CONFIG_SCHEMA_INVALID');
    }
  });
});

describe('jsonSchemaForModel', () => {
  it('strips $schema, $comment and keywords outside Gemini’s documented subset, at every depth', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $comment: 'for Gemini',
      type: 'object',
      description: 'A catalog page',
      properties: {
        code: { type: 'string', pattern: '^[A-Z]+ \\d+$', minLength: 2, examples: ['LAT 1'], $comment: 'x' },
        hours: { type: 'integer', minimum: 0, maximum: 40, exclusiveMaximum: 41, default: 3 },
        tags: {
          type: 'array',
          items: { type: 'string', enum: ['a', 'b'] },
          minItems: 1,
          maxItems: 3,
          uniqueItems: true,
        },
        properties: { type: 'string' },
      },
      required: ['code'],
      additionalProperties: false,
      propertyOrdering: ['code', 'hours', 'tags', 'properties'],
    };
    expect(jsonSchemaForModel(schema)).toEqual({
      type: 'object',
      description: 'A catalog page',
      properties: {
        code: { type: 'string' },
        hours: { type: 'integer', minimum: 0, maximum: 40 },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 1, maxItems: 3 },
        properties: { type: 'string' },
      },
      required: ['code'],
      additionalProperties: false,
      propertyOrdering: ['code', 'hours', 'tags', 'properties'],
    });
  });

  it('returns a deep copy', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'array', items: { type: 'string' } } },
      required: ['a'],
    };
    const copy = jsonSchemaForModel(schema) as {
      properties: { a: { items: { type: string } } };
      required: string[];
    };
    copy.properties.a.items.type = 'number';
    copy.required.push('b');
    expect(schema).toEqual({
      type: 'object',
      properties: { a: { type: 'array', items: { type: 'string' } } },
      required: ['a'],
    });
  });

  it('rewrites draft-07 spellings: definitions → $defs (refs too), tuple items → prefixItems, const → enum; $ref stands alone', () => {
    const schema = {
      definitions: { course: { type: 'object', properties: { kind: { const: 'course' } } } },
      type: 'object',
      properties: {
        first: { $ref: '#/definitions/course', description: 'dropped: siblings of $ref are not allowed' },
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false },
        maybe: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
    };
    expect(jsonSchemaForModel(schema)).toEqual({
      $defs: { course: { type: 'object', properties: { kind: { enum: ['course'] } } } },
      type: 'object',
      properties: {
        first: { $ref: '#/$defs/course' },
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false },
        maybe: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
    });
  });

  it('turns a zod-generated schema into one that still validates the same outputs', () => {
    const Page = z.object({
      courses: z.array(
        z.object({ code: z.string(), title: z.string(), hours_per_week: z.number().int().min(0) }),
      ),
      carry_over: z.string().nullable(),
    });
    const generated = z.toJSONSchema(Page, { target: 'draft-7' });
    const forModel = jsonSchemaForModel(generated);
    expect(forModel).not.toHaveProperty('$schema');
    const validator = createValidator(forModel);
    expect(
      validator.validate({ courses: [{ code: 'A', title: 'B', hours_per_week: 2 }], carry_over: null }),
    ).toEqual({ ok: true });
    expect(
      validator.validate({ courses: [{ code: 'A', title: 'B', hours_per_week: 2.5 }], carry_over: null }).ok,
    ).toBe(false);
  });
});
