import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { promptDigest, sampleJsonSchema, type Json } from '../../../src/emulator/model/index.js';
import { contentRandom, seededRandom } from '../../../src/emulator/seeded-random.js';
import { compileSchema } from './schema-validator.js';

const catalogSchema: unknown = JSON.parse(
  readFileSync(new URL('../../../examples/catalogs/schema.json', import.meta.url), 'utf8'),
);

/** Schemas in the subset Gemini accepts; `every` = every string in the output must embed the digest. */
const SCHEMAS: Array<{ name: string; schema: unknown; every?: boolean }> = [
  { name: 'example catalog', schema: catalogSchema, every: true },
  {
    name: 'flat primitives',
    every: true,
    schema: {
      type: 'object',
      properties: {
        s: { type: 'string' },
        i: { type: 'integer' },
        n: { type: 'number' },
        b: { type: 'boolean' },
        z: { type: 'null' },
      },
    },
  },
  {
    name: 'numeric bounds',
    schema: {
      type: 'object',
      properties: {
        small: { type: 'integer', minimum: 3, maximum: 4 },
        exact: { type: 'integer', minimum: 7, maximum: 7 },
        negative: { type: 'integer', maximum: -50 },
        exclusive: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 2 },
        fives: { type: 'integer', multipleOf: 5, minimum: 11, maximum: 29 },
        ratio: { type: 'number', minimum: 0, maximum: 1 },
        tiny: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.05 },
        quarters: { type: 'number', multipleOf: 0.25, minimum: 1, maximum: 3 },
        cents: { type: 'number', multipleOf: 0.01, minimum: 0, maximum: 10 },
        above: { type: 'number', minimum: 1000 },
        thousands: { type: 'integer', multipleOf: 1000 },
        halves: { type: 'integer', multipleOf: 1.5, minimum: 1 },
        wide: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
        negativeOnly: { type: 'number', exclusiveMaximum: -0.5 },
      },
    },
  },
  {
    name: 'string lengths',
    every: true,
    schema: {
      type: 'object',
      properties: {
        long: { type: 'string', minLength: 40 },
        short: { type: 'string', maxLength: 12 },
        digestOnly: { type: 'string', maxLength: 8 },
        window: { type: 'string', minLength: 5, maxLength: 14 },
      },
    },
  },
  { name: 'very short string', schema: { type: 'string', maxLength: 3 } },
  {
    name: 'formats',
    schema: {
      type: 'object',
      properties: [
        'date',
        'date-time',
        'time',
        'email',
        'uri',
        'uuid',
        'hostname',
        'ipv4',
        'ipv6',
        'duration',
      ].reduce<Record<string, unknown>>(
        (properties, format) => ({ ...properties, [`f_${format}`]: { type: 'string', format } }),
        {},
      ),
    },
  },
  {
    name: 'patterns',
    schema: {
      type: 'object',
      properties: {
        code: { type: 'string', pattern: '^[A-Z]{3}-\\d{3}$' },
        slug: { type: 'string', pattern: '^[a-z0-9-]+$' },
        colour: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
        either: { type: 'string', pattern: '^(draft|final)-v[0-9]+$' },
        loose: { type: 'string', pattern: 'digest|code' },
        bounded: { type: 'string', pattern: '^[a-f0-9]+$', minLength: 10, maxLength: 12 },
      },
    },
  },
  {
    name: 'enum and const',
    schema: {
      type: 'object',
      properties: {
        level: { enum: ['low', 'mid', 'high'] },
        n: { type: 'integer', enum: [2, 4, 8] },
        fixed: { const: 'v1' },
        nullableEnum: { type: ['string', 'null'], enum: ['a', 'b', null] },
      },
    },
  },
  {
    name: 'nullable forms',
    every: true,
    schema: {
      type: 'object',
      properties: {
        typeArray: { type: ['string', 'null'] },
        nullFirst: { anyOf: [{ type: 'null' }, { type: 'string', description: 'real branch' }] },
        nullableObject: {
          anyOf: [
            { type: 'object', properties: { inner: { type: 'string' } }, required: ['inner'] },
            { type: 'null' },
          ],
        },
      },
    },
  },
  {
    name: 'oneOf of distinct shapes',
    schema: {
      oneOf: [
        {
          type: 'object',
          properties: { kind: { const: 'person' }, name: { type: 'string' } },
          required: ['kind', 'name'],
        },
        {
          type: 'object',
          properties: { kind: { const: 'org' }, title: { type: 'string' } },
          required: ['kind', 'title'],
        },
      ],
    },
  },
  {
    name: 'allOf merging',
    schema: {
      allOf: [
        { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
        { properties: { label: { type: 'string', maxLength: 20 }, id: { maximum: 5 } }, required: ['label'] },
      ],
    },
  },
  {
    name: '$defs and $ref',
    every: true,
    schema: {
      $defs: {
        address: {
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
          required: ['city'],
        },
      },
      type: 'object',
      properties: {
        home: { $ref: '#/$defs/address' },
        work: { $ref: '#/$defs/address', description: 'office' },
        others: { type: 'array', items: { $ref: '#/$defs/address' } },
      },
    },
  },
  {
    name: 'recursive tree',
    schema: {
      $defs: {
        node: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
          required: ['name'],
        },
      },
      $ref: '#/$defs/node',
    },
  },
  {
    name: 'draft-07 definitions',
    schema: {
      definitions: { tag: { type: 'string', minLength: 2 } },
      type: 'array',
      items: { $ref: '#/definitions/tag' },
    },
  },
  {
    name: 'array sizes',
    schema: {
      type: 'object',
      properties: {
        many: { type: 'array', items: { type: 'string' }, minItems: 5 },
        one: { type: 'array', items: { type: 'integer' }, maxItems: 1 },
        none: { type: 'array', items: { type: 'string' }, maxItems: 0 },
        exactly: { type: 'array', items: { type: 'boolean' }, minItems: 2, maxItems: 2 },
      },
      required: ['many', 'one', 'none', 'exactly'],
    },
  },
  {
    name: 'tuple (prefixItems)',
    schema: {
      type: 'array',
      prefixItems: [{ type: 'string' }, { type: 'integer', minimum: 0, maximum: 9 }, { type: 'boolean' }],
      items: false,
    },
  },
  {
    name: 'tuple with rest',
    schema: { type: 'array', prefixItems: [{ const: 'head' }], items: { type: 'number' }, minItems: 3 },
  },
  {
    name: 'unique items',
    schema: {
      type: 'object',
      properties: {
        ints: {
          type: 'array',
          items: { type: 'integer', minimum: 1, maximum: 4 },
          minItems: 3,
          uniqueItems: true,
        },
        words: { type: 'array', items: { type: 'string' }, minItems: 3, uniqueItems: true },
        flags: { type: 'array', items: { type: 'boolean' }, minItems: 2, uniqueItems: true },
      },
    },
  },
  {
    name: 'closed object',
    schema: {
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
      required: ['a'],
    },
  },
  {
    name: 'open map with minProperties',
    schema: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, minProperties: 3 },
  },
  {
    name: 'required but not listed',
    schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'b'] },
  },
  {
    name: 'maxProperties drops optional ones',
    schema: {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'string' } },
      required: ['c'],
      maxProperties: 1,
    },
  },
  {
    name: 'keywords without type',
    every: true,
    schema: {
      properties: { items: { items: { type: 'string' } }, anything: {}, bounded: { minimum: 5, maximum: 6 } },
    },
  },
  { name: 'top-level string', every: true, schema: { type: 'string' } },
  {
    name: 'top-level array of arrays',
    every: true,
    schema: { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 1 } },
  },
  {
    name: 'deep nesting',
    every: true,
    schema: {
      type: 'object',
      properties: {
        a: {
          type: 'object',
          properties: {
            b: {
              type: 'object',
              properties: {
                c: { type: 'array', items: { type: 'object', properties: { d: { type: 'string' } } } },
              },
            },
          },
        },
      },
    },
  },
];

function stringsOf(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

const PROMPTS = ['Catalog page 1: Physics 101, 4 h/week', 'Catalog page 2 — carry-over from page 1'];

describe('sampleJsonSchema', () => {
  it.each(SCHEMAS)('$name: validates for several seeds and prompts', ({ schema, every }) => {
    const validate = compileSchema(schema);
    for (const prompt of PROMPTS) {
      const digest = promptDigest(prompt);
      for (let seed = 1; seed <= 6; seed++) {
        const value = sampleJsonSchema(schema, digest, contentRandom(seed, prompt));
        expect(validate(value), `${JSON.stringify(value)}\n${JSON.stringify(validate.errors)}`).toBe(true);
        if (every) {
          const strings = stringsOf(value);
          for (const text of strings) expect(text).toContain(digest);
        }
      }
    }
  });

  it('writes strings as "<property>·<digest>" and distinguishes sibling array items', () => {
    const digest = promptDigest('page text');
    const value = sampleJsonSchema(
      {
        type: 'object',
        properties: {
          carry_over: { type: 'string' },
          rows: {
            type: 'array',
            minItems: 2,
            maxItems: 2,
            items: { type: 'object', properties: { code: { type: 'string' } } },
          },
        },
      },
      digest,
      seededRandom(1, 'sample'),
    );
    expect(value).toEqual({
      carry_over: `carry_over·${digest}`,
      rows: [{ code: `code·${digest}` }, { code: `code_2·${digest}` }],
    });
  });

  it('embeds the digest in email, uri, uuid and hostname examples', () => {
    const digest = promptDigest('formats');
    for (const format of ['email', 'uri', 'uuid', 'hostname']) {
      expect(sampleJsonSchema({ type: 'string', format }, digest, seededRandom(1, 'sample'))).toContain(
        digest,
      );
    }
  });

  it('keeps arrays at 1–3 items when unconstrained, and ends recursive schemas', () => {
    const sizes = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const value = sampleJsonSchema(
        { type: 'array', items: { type: 'integer' } },
        'abcd1234',
        seededRandom(seed, 'sample'),
      );
      sizes.add((value as Json[]).length);
    }
    expect([...sizes].sort()).toEqual([1, 2, 3]);
    const tree = JSON.stringify(
      sampleJsonSchema(
        {
          $defs: {
            n: { type: 'object', properties: { kids: { type: 'array', items: { $ref: '#/$defs/n' } } } },
          },
          $ref: '#/$defs/n',
        },
        'abcd1234',
        seededRandom(3, 'sample'),
      ),
    );
    expect(tree.length).toBeLessThan(2_000_000);
  });
});
