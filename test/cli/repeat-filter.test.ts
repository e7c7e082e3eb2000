import { describe, expect, it } from 'vitest';
import { progressMode } from '../../src/cli/progress.js';
import { heldRecordsLine, RepeatFilter, repeatedWarningLine } from '../../src/cli/repeat-filter.js';

const PRINT = { owed: 0, print: true };
const SKIP = { owed: 0, print: false };

describe('RepeatFilter', () => {
  it('prints a progress line only when it changed, even with other lines in between', () => {
    const filter = new RepeatFilter();
    expect(filter.progress('progress: 0/4 done')).toEqual(PRINT);
    expect(filter.progress('progress: 0/4 done')).toEqual(SKIP);
    expect(filter.other()).toEqual(PRINT);
    expect(filter.progress('progress: 0/4 done')).toEqual(SKIP);
    expect(filter.progress('progress: 2/4 done')).toEqual(PRINT);
  });

  it('holds back repeated warnings, even interleaved, and owes their count to the next news', () => {
    const filter = new RepeatFilter();
    expect(filter.warning('list failed')).toEqual(PRINT);
    expect(filter.warning('polling failed')).toEqual(PRINT);
    for (let i = 0; i < 4300; i++) {
      expect(filter.warning('list failed')).toEqual(SKIP);
      expect(filter.warning('polling failed')).toEqual(SKIP);
      expect(filter.progress('progress: 0/4 done')).toEqual(i === 0 ? PRINT : SKIP);
    }
    expect(filter.warning('a new warning')).toEqual(PRINT);
    expect(filter.other()).toEqual({ owed: 8600, print: true });
    // After news the same warning is news again.
    expect(filter.warning('polling failed')).toEqual(PRINT);
    expect(filter.warning('polling failed')).toEqual(SKIP);
    expect(filter.flush()).toBe(1);
    expect(filter.flush()).toBe(0);
  });

  it('shows the first record held for each reason, and counts the others until asked', () => {
    const filter = new RepeatFilter();
    expect(filter.heldRecord('no_room')).toEqual(PRINT);
    expect(filter.heldRecord('max_cost')).toEqual(PRINT);
    for (let i = 0; i < 2000; i++) expect(filter.heldRecord('no_room')).toEqual(SKIP);
    expect(filter.heldRecord('max_cost')).toEqual(SKIP);
    expect(filter.flushHeld()).toEqual([
      { reason: 'no_room', records: 2000 },
      { reason: 'max_cost', records: 1 },
    ]);
    // Then the next of each reason is shown again.
    expect(filter.heldRecord('no_room')).toEqual(PRINT);
    expect(filter.flushHeld()).toEqual([]);
    expect(heldRecordsLine(2000, 'no_room')).toBe(
      '(2,000 more records held [no_room] not shown; --log-level debug lists each)',
    );
  });

  it('says how many repeats it held back', () => {
    expect(repeatedWarningLine(1)).toBe('(1 more repeat of the warnings above not shown)');
    expect(repeatedWarningLine(39)).toBe('(39 more repeats of the warnings above not shown)');
  });
});

describe('progressMode', () => {
  it('draws bars only on an interactive terminal outside CI', () => {
    expect(progressMode({ isTTY: true }, {})).toBe('bars');
    expect(progressMode({ isTTY: false }, {})).toBe('lines');
    expect(progressMode({}, {})).toBe('lines');
    expect(progressMode({ isTTY: true }, { CI: 'true' })).toBe('lines');
    expect(progressMode({ isTTY: true }, { CI: '1' })).toBe('lines');
    expect(progressMode({ isTTY: true }, { CI: 'false' })).toBe('bars');
    expect(progressMode({ isTTY: true }, { TERM: 'dumb' })).toBe('lines');
  });
});
