import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig, WorkloadDefinition } from '../../src/config/index.js';
import { defineWorkload, type SourceRecord } from '../../src/index.js';
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

  // Type-level as well: the repo's typecheck (tsc -p tsconfig.json, which covers test/) compiles
  // these definitions as the README writes them, records yielding only { id, vars } or { id, chainId }.
  it("accepts the README's record shape { id, chainId?, position?, vars?, media? } in a typed config", async () => {
    const definition = defineWorkload({
      name: 'readme-shape',
      source: {
        type: 'function',
        records: async function* () {
          yield { id: 'solo-1', vars: { text: 'a' } };
          yield { id: 'book/p1', chainId: 'book' };
          yield { id: 'book/p2', chainId: 'book', media: [{ path: 'p2.png', mimeType: 'image/png' }] };
        },
      },
      prompt: { name: 'page', version: 'v1' },
      model: { name: 'gemini-2.5-flash' },
    });
    const hooked: WorkloadDefinition = defineWorkload({
      name: 'readme-hook',
      hooks: {
        source: async function* (): AsyncIterable<SourceRecord> {
          yield { id: 'solo-2', position: 4 };
        },
      },
      prompt: { name: 'page', version: 'v1' },
      model: { name: 'gemini-2.5-flash' },
    });
    const source = definition.source;
    if (source?.type !== 'function' || !hooked.hooks?.source) throw new Error('expected function sources');
    const records = await collect(
      openSource({ ...base, source: { type: 'function', records: source.records } }),
    );
    expect(records.map(({ origin: _origin, ...record }) => record)).toEqual([
      { id: 'solo-1', chainId: 'solo-1', position: 0, vars: { text: 'a' }, media: [] },
      { id: 'book/p1', chainId: 'book', position: 0, vars: {}, media: [] },
      {
        id: 'book/p2',
        chainId: 'book',
        position: 1,
        vars: {},
        media: [{ path: folder.path('p2.png'), mimeType: 'image/png' }],
      },
    ]);
    const fromHook = await collect(openSource({ ...base, hooks: { source: hooked.hooks.source } }));
    expect(fromHook.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['solo-2', 'solo-2', 4],
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

  it("quotes the first line of what the function threw, cut once to 1 kB with the shared cut's size note", async () => {
    const config = withRecords(async function* () {
      yield { id: 'a' };
      throw new Error(`${'é'.repeat(3000)}\n  at query`);
    });
    const error = (await drainError(openSource(config))) as SourceError;
    expect(error.code).toBe('SOURCE_FUNCTION_FAILED');
    const quoted = error.message.slice(error.message.indexOf('Error: '));
    // 'Error: ' and 996 bytes of é (2 bytes each): never half a character.
    expect(quoted).toBe(`Error: ${'é'.repeat(496)}… [truncated: 6007 bytes in all, first 999 kept]`);
  });
});
