import { describe, expect, it } from 'vitest';
import { jsonErrorPosition } from '../../src/config/index.js';

describe('jsonErrorPosition', () => {
  it.each(['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]} ', '"text"', '0'])(
    'finds nothing wrong in %j',
    (text) => {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(jsonErrorPosition(text)).toBeUndefined();
    },
  );

  it.each([
    ['{\n  "a": }', { line: 2, column: 8, found: '"}"' }],
    ['[1, 2,]', { line: 1, column: 7, found: '"]"' }],
    ['{"a": 1', { line: 1, column: 8, found: 'end of file' }],
    ['{"a" 1}', { line: 1, column: 6, found: '"1"' }],
    ["{'a': 1}", { line: 1, column: 2, found: '"\'"' }],
    ['[01]', { line: 1, column: 3, found: '"1"' }],
    ['{"a": "\\x"}', { line: 1, column: 9, found: '"x"' }],
    ['{} extra', { line: 1, column: 4, found: '"e"' }],
    ['', { line: 1, column: 1, found: 'end of file' }],
  ])('locates the error in %j', (text, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorPosition(text)).toMatchObject(expected);
  });
});
