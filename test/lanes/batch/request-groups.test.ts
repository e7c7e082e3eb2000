import { describe, expect, it } from 'vitest';
import { formGroups, groupKey, groupPositions } from '../../../src/lanes/batch/request-groups.js';

const fresh = (id: string) => ({ id, attempts: 0 });

describe('request groups of a batch job', () => {
  it('groups fresh records K at a time in order, and sends a record tried before alone', () => {
    const records = [fresh('a'), fresh('b'), { id: 'c', attempts: 1 }, fresh('d'), fresh('e'), fresh('f')];
    expect(formGroups(records, 2).map((group) => group.map((r) => r.id))).toEqual([
      ['a', 'b'],
      ['c'],
      ['d', 'e'],
      ['f'],
    ]);
    expect(formGroups(records, 1)).toHaveLength(6);
  });

  it('keys a group by its members’ positions, and reads back only keys that name this job’s members', () => {
    expect(groupKey([0, 4, 7])).toBe('group:0,4,7');
    expect(groupPositions('group:0,4,7', 8)).toEqual([0, 4, 7]);
    for (const key of [
      'group:0,8',
      'group:1,1',
      'group:',
      'group:01',
      'group:-1',
      'group:1e3',
      'doc-1',
      'group:0,,1',
    ])
      expect(groupPositions(key, 8)).toBeNull();
  });
});
