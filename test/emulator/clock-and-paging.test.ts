import { describe, expect, it } from 'vitest';
import { parseInputLine } from '../../src/emulator/batch-input.js';
import { emulatedClock } from '../../src/emulator/clock.js';
import { paginate } from '../../src/emulator/paging.js';
import { parseFaultPlan } from '../../src/emulator/fault-plan.js';

describe('emulator building blocks', () => {
  it('runs emulated time at timeScale from the start', () => {
    let real = 1_000;
    const clock = emulatedClock(60, () => real);
    expect(clock.now()).toBe(1_000);
    real += 1_000;
    expect(clock.now()).toBe(61_000);
    expect(clock.realDelayUntil(121_000)).toBe(1_000);
    expect(clock.realDelayUntil(0)).toBe(0);
  });

  it('pages newest first with a token that survives inserts and deletes', () => {
    const items = [5, 4, 3, 2, 1];
    const first = paginate(items, (n) => n, 2, undefined);
    expect(first.items).toEqual([5, 4]);
    // Item 3 deleted and item 6 created between pages: the next page continues after 4.
    const second = paginate([6, 5, 4, 2, 1], (n) => n, 2, first.nextPageToken);
    expect(second.items).toEqual([2, 1]);
    expect(second.nextPageToken).toBeUndefined();
    expect(() => paginate(items, (n) => n, 2, 'garbage')).toThrow(/page token/);
  });

  it('turns malformed input lines into per-line INVALID_ARGUMENT errors', () => {
    expect(parseInputLine('{"key":"a","request":{"contents":[{"parts":[{"text":"hi"}]}]}}', 1)).toEqual({
      key: 'a',
      request: { contents: [{ parts: [{ text: 'hi' }] }] },
    });
    // No contents (or none in the list) is Google's INVALID_ARGUMENT for that line.
    expect(parseInputLine('{"key":"b","request":{"contents":[]}}', 2)).toEqual({
      key: 'b',
      invalid: { code: 3, message: '* GenerateContentRequest.contents: contents is not specified' },
    });
    expect(parseInputLine('{oops', 7)).toMatchObject({
      key: null,
      invalid: { code: 3, message: expect.stringContaining('line 7') },
    });
    expect(parseInputLine('{"key":"b"}', 2)).toMatchObject({
      key: 'b',
      invalid: { message: expect.stringContaining('"request"') },
    });
    expect(parseInputLine('{"key":3,"request":{}}', 3)).toMatchObject({
      invalid: { message: expect.stringContaining('"key"') },
    });
  });

  it('validates fault plans and names the bad field', () => {
    expect(
      parseFaultPlan({ byKey: { a: ['safety'] }, http: [{ kind: 'drop', match: 'get' }] }, 'test'),
    ).toEqual({
      byKey: { a: ['safety'] },
      http: [{ kind: 'drop', match: 'get' }],
    });
    expect(() => parseFaultPlan({ http: [{ kind: 'status_418' }] }, 'plan.json')).toThrow(
      /plan\.json.*http\.0\.kind/,
    );
    expect(() => parseFaultPlan({ surprise: true }, 'x')).toThrow(/surprise/);
  });
});
