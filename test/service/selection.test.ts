import { describe, expect, it } from 'vitest';
import {
  globExpression,
  parseFieldConditions,
  planSelection,
  type RecordSelection,
} from '../../src/service/selection.js';
import type { ChainRecords } from '../../src/service/chain-export.js';
import type { RecordStatus, StoredRecord } from '../../src/store/store.js';

/** Chains `a` (3 pages) and `b` (2 pages) with the given statuses, in chain order. */
function chains(statuses: Record<string, RecordStatus>): ChainRecords[] {
  const chain = (id: string, pages: number, state: string): ChainRecords => ({
    chainId: id,
    records: Array.from({ length: pages }, (_, index): StoredRecord => {
      const recordId = `${id}/p${index + 1}`;
      return {
        id: recordId,
        chainId: id,
        position: index + 1,
        vars: { state, page: index + 1 },
        media: [],
        predecessorId: index === 0 ? null : `${id}/p${index}`,
        status: statuses[recordId] ?? (index === 0 ? 'ready' : 'blocked'),
        attempts: 0,
        jobId: null,
        remaining: pages - index,
      };
    }),
  });
  return [chain('a', 3, 'TX'), chain('b', 2, 'MA')];
}

async function* iterate(list: ChainRecords[]): AsyncIterable<ChainRecords> {
  yield* list;
}

const plan = (selection: RecordSelection, statuses: Record<string, RecordStatus> = {}) =>
  planSelection(iterate(chains(statuses)), selection);

describe('planSelection', () => {
  it('takes --limit as whole chain prefixes, skipping done records', async () => {
    const result = await plan({ limit: 3 }, { 'a/p1': 'done', 'a/p2': 'ready' });
    expect(result.send).toEqual(['a/p2', 'a/p3', 'b/p1']);
    expect(result.alreadyDone).toEqual(['a/p1']);
    expect(result).toMatchObject({ limited: true, chains: 2, matched: 4 });
  });

  it('reports a selected record whose predecessor is outside the selection and not done', async () => {
    const result = await plan({ only: ['a/p3', 'b/*'] }, { 'a/p1': 'done', 'a/p2': 'dead' });
    expect(result.waiting).toEqual([{ id: 'a/p3', predecessorId: 'a/p2', predecessorStatus: 'dead' }]);
    expect(result.send).toEqual(['b/p1', 'b/p2']);
  });

  it('--force sends done records again, and their successors after them', async () => {
    const result = await plan({ only: ['a'], force: true }, { 'a/p1': 'done', 'a/p2': 'done' });
    expect(result.send).toEqual(['a/p1', 'a/p2', 'a/p3']);
    expect(result.redo).toEqual(['a/p1', 'a/p2']);
  });

  it('filters on variables, by value or numeric range', async () => {
    expect((await plan({ filter: parseFieldConditions(['state=MA']) })).send).toEqual(['b/p1', 'b/p2']);
    const ranged = await plan({ filter: parseFieldConditions(['page=2..', 'state=TX,state=MA']) });
    expect(ranged.matched).toBe(3);
    // Their first pages are not selected and not done: the pages after them wait, a/p3 behind a/p2.
    expect(ranged.waiting.map((record) => record.id)).toEqual(['a/p2', 'a/p3', 'b/p2']);
    expect(ranged.send).toEqual([]);
  });

  it('refuses ids that name nothing and fields no record has', async () => {
    await expect(plan({ only: ['c/p1'] })).rejects.toThrow('--only names no record or chain: c/p1');
    await expect(plan({ filter: parseFieldConditions(['county=Essex']) })).rejects.toThrow(
      'no record has: county',
    );
    expect(() => parseFieldConditions(['state'])).toThrow('is not field=value');
  });

  it('refuses a range of text, and a selection that matches no record, naming values the field has', async () => {
    for (const text of ['page=abc..def', 'page=1..x', 'page=..'])
      expect(() => parseFieldConditions([text])).toThrow(`--filter "${text}" is not a range`);
    await expect(plan({ filter: parseFieldConditions(['state=CA']) })).rejects.toThrow(
      'The selection matches no record; nothing was sent. Values the records have: state: TX, MA',
    );
    await expect(plan({ filter: parseFieldConditions(['page=7..']) })).rejects.toThrow('page: 1, 2, 3 (');
    await expect(plan({ only: ['z/**'] })).rejects.toThrow('The selection matches no record');
    // Matching records that are all done is a match: nothing to send, no error.
    const done = await plan({ only: ['b'] }, { 'b/p1': 'done', 'b/p2': 'done' });
    expect(done).toMatchObject({ matched: 2, send: [], alreadyDone: ['b/p1', 'b/p2'] });
  });
});

describe('globExpression', () => {
  it('matches * within a path segment and ** across', () => {
    expect(globExpression('TX/*').test('TX/a')).toBe(true);
    expect(globExpression('TX/*').test('TX/a/b')).toBe(false);
    expect(globExpression('TX/**').test('TX/a/b')).toBe(true);
    expect(globExpression('a.b?').test('a.bc')).toBe(true);
    expect(globExpression('a.b?').test('axbc')).toBe(false);
  });
});
