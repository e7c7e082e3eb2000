import { describe, expect, it } from 'vitest';
import {
  classifyResult,
  createValidator,
  divideUsage,
  GROUP_ANSWER_VALIDATOR,
  groupResponseSchema,
  itemParts,
  splitGroupOutcome,
} from '../../src/results/index.js';

const ITEM = {
  type: 'object',
  properties: { category: { type: 'string', enum: ['a', 'b'] } },
  required: ['category'],
};

function answer(text: string, usage = { promptTokenCount: 100, candidatesTokenCount: 31 }) {
  return classifyResult(
    {
      response: {
        candidates: [{ content: { parts: [{ text }] }, finishReason: 'STOP' }],
        usageMetadata: usage,
      },
    },
    GROUP_ANSWER_VALIDATOR,
  );
}

describe('grouped answers', () => {
  it('asks for one required property per record id, in order, each referring to the record schema sent once', () => {
    const ids = ['doc-2', '__proto__', 'doc/1'];
    const schema = groupResponseSchema(itemParts(ITEM), ids) as Record<string, unknown>;
    expect(schema.required).toEqual(ids);
    expect(schema.propertyOrdering).toEqual(ids);
    expect(Object.keys(schema.properties as object)).toEqual(ids);
    expect(Object.getPrototypeOf(schema.properties)).toBe(Object.prototype);
    // The record schema is sent once (Google bills the response schema as input), referred to per id.
    expect(JSON.stringify(schema).split('"enum":["a","b"]')).toHaveLength(2);
    const check = createValidator(schema);
    expect(
      check.validate({
        'doc-2': { category: 'a' },
        ['__proto__']: { category: 'b' },
        'doc/1': { category: 'a' },
      }),
    ).toEqual({ ok: true });
    expect(check.validate(JSON.parse('{"doc-2":{"category":"a"},"__proto__":{"category":"b"}}')).ok).toBe(
      false,
    );
  });

  it('keeps the record schema’s $defs beside it and re-points references to its own root', () => {
    const recursive = {
      $defs: { leaf: { type: 'string' } },
      type: 'object',
      properties: { name: { $ref: '#/$defs/leaf' }, children: { type: 'array', items: { $ref: '#' } } },
      required: ['name'],
    };
    const schema = groupResponseSchema(itemParts(recursive), ['x', 'y']);
    const check = createValidator(schema);
    const tree = { name: 'root', children: [{ name: 'kid', children: [] }] };
    expect(check.validate({ x: tree, y: { name: 'solo' } })).toEqual({ ok: true });
    expect(check.validate({ x: { name: 'root', children: [{ name: 3 }] }, y: { name: 'solo' } }).ok).toBe(
      false,
    );
    // Text outputs: each item is a string.
    expect(groupResponseSchema(itemParts(undefined), ['x'])).toMatchObject({
      properties: { x: { type: 'string' } },
    });
  });

  it('splits an answer per record: each item validated alone, a missing one failed alone, usage adding up', () => {
    const validator = createValidator(ITEM);
    const outcomes = splitGroupOutcome(
      answer('{"r1": {"category": "a"}, "r2": {"category": "zzz"}}'),
      ['r1', 'r2', 'r3'],
      validator,
    );
    expect(outcomes[0]).toMatchObject({ ok: true, output: { category: 'a' } });
    expect(outcomes[1]).toMatchObject({ ok: false, cause: 'schema_mismatch', retryable: true });
    expect(outcomes[1]?.ok === false && outcomes[1].message).toContain('r2');
    expect(outcomes[2]).toMatchObject({ ok: false, cause: 'missing_item', retryable: true });
    const usage = outcomes.map((outcome) => outcome.usage ?? { inputTokens: 0, outputTokens: 0 });
    expect(usage.reduce((sum, u) => sum + u.inputTokens, 0)).toBe(100);
    expect(usage.reduce((sum, u) => sum + u.outputTokens, 0)).toBe(31);
  });

  it('fails every record of a group whose whole answer is unusable, each with its share of the usage', () => {
    const outcomes = splitGroupOutcome(answer('{"r1": {"cat'), ['r1', 'r2'], createValidator(ITEM));
    expect(outcomes.map((outcome) => outcome.ok === false && outcome.cause)).toEqual([
      'invalid_json',
      'invalid_json',
    ]);
    expect(outcomes.map((outcome) => outcome.usage?.inputTokens)).toEqual([50, 50]);
    const notObject = splitGroupOutcome(answer('[1, 2]'), ['r1'], createValidator(ITEM));
    expect(notObject[0]).toMatchObject({ ok: false, cause: 'schema_mismatch' });
  });

  it('divides usage in whole tokens that add up exactly', () => {
    const shares = divideUsage({ inputTokens: 10, outputTokens: 7, thoughtsTokens: 5 }, [1, 1, 1]);
    expect(shares.map((s) => s.inputTokens)).toEqual([4, 3, 3]);
    expect(shares.reduce((sum, s) => sum + s.outputTokens, 0)).toBe(7);
    expect(shares.reduce((sum, s) => sum + (s.thoughtsTokens ?? 0), 0)).toBe(5);
    expect(divideUsage({ inputTokens: 9, outputTokens: 100 }, [1, 3]).map((s) => s.outputTokens)).toEqual([
      25, 75,
    ]);
    // A grouped prompt's audio is shared like its input, so each record's share is priced at the audio rate.
    const audio = divideUsage({ inputTokens: 10, outputTokens: 6, audioInputTokens: 8 }, [1, 2, 3]);
    expect(audio.map((s) => s.audioInputTokens)).toEqual([3, 3, 2]);
  });
});
