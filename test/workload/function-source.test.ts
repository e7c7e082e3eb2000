import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/index.js';
import { openSource, SourceError } from '../../src/workload/index.js';
import type { WorkloadRecord } from '../../src/workload/record.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { collect, configWithSource, drainError } from './source-config.js';

describe('function source', () => {
  let folder: TempFolder;
  let base: LoadedConfig;
  beforeAll(async () => {
    folder = makeTempFolder('wb-function-');
    folder.write('rows.jsonl', '{"id":"unused"}\n');
    base = await configWithSource(folder, ['type: jsonl', 'path: rows.jsonl']);
  });
  afterAll(() => folder.remove());

  /** The loaded config with its source swapped for a function, as a TS config would have it. */
  function withRecords(records: () => AsyncIterable<unknown>): LoadedConfig {
    return { ...base, source: { type: 'function', records: records as () => AsyncIterable<WorkloadRecord> } };
  }

  it('passes records through lazily, filling the optional parts of loosely typed (JS) records', async () => {
    let produced = 0;
    const config = withRecords(async function* () {
      for (let index = 0; index < 3; index++) {
        produced++;
        yield { id: `r${index}`, vars: { index } };
      }
    });
    const iterator = openSource(config)[Symbol.asyncIterator]();
    expect(produced).toBe(0);
    expect((await iterator.next()).value).toEqual({
      id: 'r0',
      chainId: 'r0',
      position: 0,
      vars: { index: 0 },
      media: [],
      origin: 'the source function (record 1)',
    });
    expect(produced).toBe(1);
    expect((await collect({ [Symbol.asyncIterator]: () => iterator })).map((record) => record.id)).toEqual([
      'r1',
      'r2',
    ]);
  });

  it('orders a chain without positions by appearance, as a table source does', async () => {
    const records = await collect(
      openSource(
        withRecords(async function* () {
          yield { id: 'b1/p1', chainId: 'b1' };
          yield { id: 'b2/p1', chainId: 'b2' };
          yield { id: 'b1/p2', chainId: 'b1' };
          yield { id: 'solo' };
        }),
      ),
    );
    expect(records.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['b1/p1', 'b1', 0],
      ['b2/p1', 'b2', 0],
      ['b1/p2', 'b1', 1],
      ['solo', 'solo', 0],
    ]);
  });

  it.each([
    ['a string', 'expected a record object'],
    [{ id: 5 }, '`id` must be a string'],
    [{ id: 'a', position: 'first' }, '`position` must be a finite number'],
    [{ id: 'a', vars: { nested: { no: 1 } } }, 'vars.nested must be a string, number, boolean or null'],
    [{ id: 'a', media: [{ path: 'x.png' }] }, 'each media entry must be { path, mimeType } strings'],
  ])('refuses %j', async (record, message) => {
    const error = (await drainError(
      openSource(
        withRecords(async function* () {
          yield record;
        }),
      ),
    )) as SourceError;
    expect(error).toBeInstanceOf(SourceError);
    expect(error.code).toBe('SOURCE_INVALID_RECORD');
    expect(error.message).toContain('the source function (record 1)');
    expect(error.message).toContain(message);
  });
});
