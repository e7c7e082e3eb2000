import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openSource, SourceError } from '../../src/workload/index.js';
import type { WorkloadRecord } from '../../src/workload/record.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { configWithSource } from '../workload/source-config.js';

// A repeated id would silently replace a record (last row wins); a repeated position would make a
// chain's order arbitrary. Both are refused during the sync, naming both places.

describe('syncing a source with repeated ids or positions', () => {
  let folder: TempFolder;
  let store: SqliteStore;
  beforeEach(() => {
    folder = makeTempFolder('wb-duplicates-');
    store = new SqliteStore({ path: folder.path('state/state.db') });
  });
  afterEach(async () => {
    await store.close();
    folder.remove();
  });

  async function syncError(config: LoadedConfig): Promise<SourceError> {
    const error = await store
      .syncRecords(() => openSource(config))
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(SourceError);
    return error as SourceError;
  }

  it('refuses a repeated id in a JSONL source, across chains, naming both lines', async () => {
    folder.write(
      'rows.jsonl',
      [
        '{"id":"a","book":"x"}',
        '{"id":"b","book":"x"}',
        '',
        '{"id":"c","book":"y"}',
        '{"id":"a","book":"y"}',
      ].join('\n'),
    );
    const config = await configWithSource(folder, ['type: jsonl', 'path: rows.jsonl', 'chain_field: book']);
    const error = await syncError(config);
    expect(error.code).toBe('SOURCE_DUPLICATE_ID');
    const file = folder.path('rows.jsonl');
    expect(error.message).toContain(`${file} line 1 and ${file} line 5 both have id "a"`);
    expect(error.category).toBe('input');
  });

  it('refuses a repeated id in a CSV source, naming both lines', async () => {
    folder.write('rows.csv', 'id,text\nq1,one\nq2,two\nq1,three\n');
    const error = await syncError(await configWithSource(folder, ['type: csv', 'path: rows.csv']));
    const file = folder.path('rows.csv');
    expect(error.message).toContain(`${file} line 2 and ${file} line 4 both have id "q1"`);
  });

  it('refuses a repeated position within one chain of a table source, as directory sources do', async () => {
    folder.write(
      'rows.jsonl',
      [
        '{"id":"p1","book":"x","page":1}',
        '{"id":"q1","book":"y","page":1}',
        '{"id":"p2","book":"x","page":1}',
      ].join('\n'),
    );
    const config = await configWithSource(folder, [
      'type: jsonl',
      'path: rows.jsonl',
      'chain_field: book',
      'position_field: page',
    ]);
    const error = await syncError(config);
    expect(error.code).toBe('SOURCE_DUPLICATE_POSITION');
    const file = folder.path('rows.jsonl');
    expect(error.message).toContain(`${file} line 1 and ${file} line 3 are both at position 1 of chain "x"`);
  });

  it('names the yield indexes of a function source', async () => {
    folder.write('rows.jsonl', '{"id":"unused"}\n');
    const base = await configWithSource(folder, ['type: jsonl', 'path: rows.jsonl']);
    const records = async function* (): AsyncIterable<WorkloadRecord> {
      for (const id of ['r1', 'r2', 'r3', 'r2']) yield { id, chainId: id, position: 0, vars: {}, media: [] };
    };
    const error = await syncError({ ...base, source: { type: 'function', records } });
    expect(error.message).toContain(
      'the source function (record 2) and the source function (record 4) both have id "r2"',
    );
  });

  it("reads the source once unless a store's first sync meets a repeat, and finds repeats of every kind the same way in a first and a later sync", async () => {
    let stores = 0;
    const freshStore = async () => {
      await store.close();
      store = new SqliteStore({ path: folder.path(`state/${++stores}/state.db`) });
    };
    const record = (id: string, chainId: string, position: number): WorkloadRecord => ({
      id,
      chainId,
      position,
      vars: {},
      media: [],
    });
    const counted = (list: WorkloadRecord[]) => {
      const reads = { count: 0 };
      const open = () => {
        reads.count++;
        return (async function* (): AsyncIterable<WorkloadRecord> {
          yield* list;
        })();
      };
      return { reads, open };
    };
    const clean = [record('a', 'x', 0), record('b', 'x', 1), record('c', 'y', 0.5)];
    const cases: Array<[string, WorkloadRecord[], string]> = [
      // The second "b" has a place of its own: only the id repeats.
      [
        'SOURCE_DUPLICATE_ID',
        [...clean, record('b', 'z', 7)],
        'record 2 of the source and record 4 of the source both have id "b"',
      ],
      // Placed by position: the place's rowid repeats.
      [
        'SOURCE_DUPLICATE_POSITION',
        [...clean, record('d', 'x', 1)],
        'record 2 of the source and record 4 of the source are both at position 1 of chain "x"',
      ],
      // Not a whole number, so not placed: checked by its own table.
      [
        'SOURCE_DUPLICATE_POSITION',
        [...clean, record('e', 'y', 0.5)],
        'record 3 of the source and record 4 of the source are both at position 0.5 of chain "y"',
      ],
    ];
    for (const [code, list, message] of cases) {
      for (const later of [false, true]) {
        await freshStore();
        if (later)
          await store.syncRecords(() =>
            (async function* () {
              yield record('old', 'old', 0);
            })(),
          );
        const source = counted(list);
        const error = await store.syncRecords(source.open).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error, `${code} ${message}`).toBeInstanceOf(SourceError);
        expect((error as SourceError).code).toBe(code);
        expect((error as SourceError).message).toContain(message);
        // A first sync reads again to name the places; a later one names them as it meets them.
        expect(source.reads.count).toBe(later ? 1 : 2);
      }
    }
    const fine = counted(clean);
    await freshStore();
    expect(await store.syncRecords(fine.open)).toEqual({ seen: 3, inserted: 3, linked: true, dropped: 0 });
    expect(fine.reads.count).toBe(1);
    expect(
      (await store.listRecords({})).map((stored) => [stored.id, stored.chainId, stored.position]),
    ).toEqual(
      expect.arrayContaining([
        ['a', 'x', 0],
        ['b', 'x', 1],
        ['c', 'y', 0.5],
      ]),
    );
  });

  it('finds a repeat far apart in a large source (the seen ids live in SQLite, not in memory), and syncs again once fixed', async () => {
    const count = 25_000;
    const records = (repeat: boolean) =>
      async function* (): AsyncIterable<WorkloadRecord> {
        for (let index = 0; index < count; index++)
          yield { id: `r${index}`, chainId: `c${index % 100}`, position: index, vars: {}, media: [] };
        if (repeat) yield { id: 'r7', chainId: 'other', position: 0, vars: {}, media: [] };
      };
    folder.write('rows.jsonl', '{"id":"unused"}\n');
    const base = await configWithSource(folder, ['type: jsonl', 'path: rows.jsonl']);
    const error = await syncError({ ...base, source: { type: 'function', records: records(true) } });
    expect(error.message).toContain(
      `(record 8) and the source function (record ${count + 1}) both have id "r7"`,
    );
    // The same ids again, in a new sync, are not repeats: each sync starts afresh.
    const fixed = { ...base, source: { type: 'function' as const, records: records(false) } };
    expect((await store.syncRecords(() => openSource(fixed))).seen).toBe(count);
    expect((await store.syncRecords(() => openSource(fixed))).inserted).toBe(0);
  });
});
