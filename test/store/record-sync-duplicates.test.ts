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
    const error = await store.syncRecords(openSource(config)).then(
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
    expect((await store.syncRecords(openSource(fixed))).seen).toBe(count);
    expect((await store.syncRecords(openSource(fixed))).inserted).toBe(0);
  });
});
