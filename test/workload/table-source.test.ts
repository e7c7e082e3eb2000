import { truncateSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource, RecordIdError, SourceError } from '../../src/workload/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import type { WorkloadRecord } from '../../src/workload/record.js';
import { collect, configWithSource, drainError } from './source-config.js';

describe('JSONL / JSON / CSV sources', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder('wb-table-');
  });
  afterEach(() => folder.remove());

  /** The source lines that read `file` (its type is its ending: jsonl, json, csv), then `more`. */
  const sourceLines = (file: string, more: string[]): string[] => [
    `type: ${file.slice(file.lastIndexOf('.') + 1)}`,
    `path: ${file}`,
    ...more,
  ];

  /** Writes `text` to `file` and reads it as a source with the further source lines `more`. */
  async function read(file: string, text: string, more: string[] = []): Promise<WorkloadRecord[]> {
    folder.write(file, text);
    return collect(openSource(await configWithSource(folder, sourceLines(file, more))));
  }

  /** Writes `text` to `file`, reads it as a source that must refuse it, and returns what it threw. */
  async function refusal(file: string, text: string, more: string[] = []): Promise<SourceError> {
    folder.write(file, text);
    return (await drainError(
      openSource(await configWithSource(folder, sourceLines(file, more))),
    )) as SourceError;
  }

  it('JSONL without chain fields: every record is its own chain; other fields become vars', async () => {
    const records = await read(
      'data/rows.jsonl',
      '{"id": "q1", "question": "Why?", "n": 3, "ok": true, "none": null, "tags": ["a", "b"], "meta": {"k": 1}}\n\n{"id": 42, "question": "How?"}\n',
    );
    expect(records).toEqual([
      {
        id: 'q1',
        chainId: 'q1',
        position: 0,
        vars: { question: 'Why?', n: 3, ok: true, none: null, tags: '["a","b"]', meta: '{"k":1}' },
        media: [],
        origin: `${folder.path('data/rows.jsonl')} line 1`,
      },
      {
        id: '42',
        chainId: '42',
        position: 0,
        vars: { question: 'How?' },
        media: [],
        origin: `${folder.path('data/rows.jsonl')} line 3`,
      },
    ]);
  });

  it('JSONL with a chain field: positions follow the order of appearance within each chain', async () => {
    const records = await read(
      'rows.jsonl',
      [
        '{"key":"b1/p1","book":"b1"}',
        '{"key":"b2/p1","book":"b2"}',
        '{"key":"b1/p2","book":"b1"}',
        '{"key":"b1/p3","book":"b1"}',
      ].join('\n'),
      ['id_field: key', 'chain_field: book'],
    );
    expect(records.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['b1/p1', 'b1', 0],
      ['b2/p1', 'b2', 0],
      ['b1/p2', 'b1', 1],
      ['b1/p3', 'b1', 2],
    ]);
    expect(records[0]?.vars).toEqual({ book: 'b1' });
  });

  it('JSONL with chain and position fields, and media paths relative to the data file', async () => {
    const records = await read(
      'data/rows.jsonl',
      [
        '{"id":"p2","book":"b","page":2,"scan":["scans/p2.png","scans/p2.pdf"]}',
        '{"id":"p1","book":"b","page":1,"scan":"scans/p1.jpg"}',
      ].join('\n'),
      ['chain_field: book', 'position_field: page', 'media_field: scan'],
    );
    expect(records.map((record) => [record.id, record.position])).toEqual([
      ['p2', 2],
      ['p1', 1],
    ]);
    expect(records[0]?.media).toEqual([
      { path: folder.path('data/scans/p2.png'), mimeType: 'image/png' },
      { path: folder.path('data/scans/p2.pdf'), mimeType: 'application/pdf' },
    ]);
    expect(records[1]?.media).toEqual([{ path: folder.path('data/scans/p1.jpg'), mimeType: 'image/jpeg' }]);
    expect(records[1]?.vars).toEqual({ book: 'b', page: 1 });
  });

  it('names the file and line of a bad JSONL line, a missing id and a bad position', async () => {
    const bad = await refusal('bad.jsonl', '{"id":"a"}\n{"id":"b"\n');
    expect(bad.code).toBe('SOURCE_INVALID_JSON');
    expect(bad.message).toContain(`${folder.path('bad.jsonl')} line 2: invalid JSON`);
    expect(bad.line).toBe(2);

    const noId = await refusal('noid.jsonl', '{"id":"a"}\n\n{"name":"b"}\n');
    expect(noId.code).toBe('SOURCE_FIELD_MISSING');
    expect(noId.message).toContain(`${folder.path('noid.jsonl')}:3: no "id" field`);
    // Present but empty is named as such (it read "no \"id\" field").
    const emptyId = await refusal('emptyid.jsonl', '{"id":"a"}\n{"id":""}\n');
    expect(emptyId.message).toContain(`${folder.path('emptyid.jsonl')}:2: the "id" field is empty`);

    const array = await refusal('array.jsonl', '[1, 2]\n');
    expect(array.message).toContain('line 1: expected a JSON object, got an array');

    const positionFields = ['chain_field: c', 'position_field: p'];
    const position = await refusal('pos.jsonl', '{"id":"a","c":"x","p":"first"}\n', positionFields);
    expect(position.code).toBe('SOURCE_FIELD_INVALID');
    expect(position.message).toContain('position field "p" must be a number, got "first"');
    // 1e400 parses to Infinity, which JSON.stringify printed as null.
    const infinite = await refusal('pos.jsonl', '{"id":"a","c":"x","p":1e400}\n', positionFields);
    expect(infinite.message).toContain('position field "p" must be a number, got Infinity');
  });

  it.each([
    ['../etc/passwd', 'would leave the output folder'],
    ['/abs', 'absolute path'],
    ['a/../b', 'would leave the output folder'],
    ['a\\b', "contains '\\'"],
    ['.hidden', "starts with '.'"],
    ['a//b', 'empty segment'],
    ['tab\there', 'control character'],
  ])('rejects the hostile id %j, naming it and its file:line', async (id, reason) => {
    const error = await refusal('rows.jsonl', `{"id":"ok"}\n${JSON.stringify({ id })}\n`);
    expect(error).toBeInstanceOf(RecordIdError);
    expect(error).toMatchObject({ code: 'RECORD_ID_INVALID' });
    expect(error.message).toContain(`record id ${JSON.stringify(id)} from ${folder.path('rows.jsonl')}:2`);
    expect(error.message).toContain(reason);
  });

  it('rejects an empty id as missing', async () => {
    const error = await refusal('rows.jsonl', '{"id":""}\n');
    expect(error.code).toBe('SOURCE_FIELD_MISSING');
  });

  it('CSV: streamed rows with string values, chains and positions', async () => {
    const records = await read(
      'rows.csv',
      'id,book,page,title\nb1-2,b1,2,"Second, with comma"\nb1-1,b1,1,First\nsolo,solo,1,Alone\n',
      ['chain_field: book', 'position_field: page'],
    );
    expect(records).toEqual([
      {
        id: 'b1-2',
        chainId: 'b1',
        position: 2,
        vars: { book: 'b1', page: '2', title: 'Second, with comma' },
        media: [],
        origin: `${folder.path('rows.csv')} line 2`,
      },
      {
        id: 'b1-1',
        chainId: 'b1',
        position: 1,
        vars: { book: 'b1', page: '1', title: 'First' },
        media: [],
        origin: `${folder.path('rows.csv')} line 3`,
      },
      {
        id: 'solo',
        chainId: 'solo',
        position: 1,
        vars: { book: 'solo', page: '1', title: 'Alone' },
        media: [],
        origin: `${folder.path('rows.csv')} line 4`,
      },
    ]);
  });

  it('CSV without chain fields, and a malformed CSV named by file and line', async () => {
    const plain = await read('plain.csv', 'id,text\na,hello\nb,world\n');
    expect(plain.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['a', 'a', 0],
      ['b', 'b', 0],
    ]);
    const error = await refusal('broken.csv', 'id,text\na,hello\nb,world,extra\n');
    expect(error.code).toBe('SOURCE_INVALID_CSV');
    expect(error.message).toContain(`${folder.path('broken.csv')} line 3`);
  });

  // csv-parse reports an unclosed quote at the line it reached, the end of the file: "line 4" for a
  // quote opened on line 3 of a 4-line file, however many lines the quote swallowed.
  it('CSV: an unclosed quote is reported at the line where its field opens', async () => {
    for (const [text, line] of [
      ['id,text\na,hello\nb,"unclosed\nc,more\n', 3],
      ['id,text\na,"two\nlines"\nb,"she said ""hi""\nc,d\ne,f\n', 4],
      ['id,text\r\nx,"a\r\nb","unclosed\r\nzz\r\n', 3],
    ] as const) {
      const error = await refusal('open.csv', text);
      expect(error).toMatchObject({ code: 'SOURCE_INVALID_CSV', line });
      expect(error.message).toBe(
        `${folder.path('open.csv')} line ${line}: a quoted field opens here and is never closed (the rest of the file became its text); ` +
          'close it with a ", or write a quote inside a quoted field as ""',
      );
    }
  });

  it('CSV: a header naming a column twice is refused, naming the column, the file and line 1', async () => {
    // Before, the later column silently won: `text` read "second", and `id,product,id` took the third column as id.
    for (const [header, row, column, positions] of [
      ['id,product,text,text', 'a,x,first,second', 'text', 'columns 3 and 4'],
      ['id,product,id', 'a,x,b', 'id', 'columns 1 and 3'],
    ] as const) {
      const error = await refusal('data.csv', `${header}\n${row}\n`);
      expect(error).toBeInstanceOf(SourceError);
      expect(error.code).toBe('SOURCE_INVALID_CSV');
      expect(error.message).toBe(
        `${folder.path('data.csv')} line 1: the header names column "${column}" twice (${positions}); ` +
          'rename one: each column needs its own name',
      );
      expect(error).toMatchObject({ file: folder.path('data.csv'), line: 1 });
    }
  });

  it('CSV: a header column without a name is refused, naming its place, the file and the line', async () => {
    // Before, its values went to a variable named "" that no template can reach, without a word.
    for (const [header, row, place] of [
      ['id,,text', 'a,lost,kept', 'column 2'],
      ['id,text, ', 'a,kept,lost', 'column 3'],
    ] as const) {
      const error = await refusal('data.csv', `\n${header}\n${row}\n`);
      expect(error).toBeInstanceOf(SourceError);
      expect(error.code).toBe('SOURCE_INVALID_CSV');
      expect(error.message).toContain(`${folder.path('data.csv')} line 2: the header's ${place} has no name`);
      expect(error).toMatchObject({ file: folder.path('data.csv'), line: 2 });
    }
  });

  it('CSV: a hostile id names the line', async () => {
    const error = await refusal('rows.csv', 'id\nok\n../../x\n');
    expect(error).toBeInstanceOf(RecordIdError);
    expect(error.message).toContain(`"../../x" from ${folder.path('rows.csv')}:3`);
  });

  it('JSON: a top-level array, with and without chains', async () => {
    const rows = JSON.stringify(
      [
        { id: 'a', text: 'x', chain: 'c' },
        { id: 'b', chain: 'c' },
      ],
      null,
      2,
    );
    const alone = await read('rows.json', rows);
    expect(alone.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['a', 'a', 0],
      ['b', 'b', 0],
    ]);
    const chained = await read('rows.json', rows, ['chain_field: chain']);
    expect(chained.map((record) => [record.id, record.chainId, record.position])).toEqual([
      ['a', 'c', 0],
      ['b', 'c', 1],
    ]);
  });

  it('JSON: invalid JSON names the line, a non-array is refused, a bad item is named', async () => {
    const bad = await refusal('bad.json', '[\n  {"id": "a"},\n  {"id": }\n]\n');
    expect(bad.code).toBe('SOURCE_INVALID_JSON');
    expect(bad.message).toContain(`${folder.path('bad.json')} line 3`);
    const object = await refusal('object.json', '{"id": "a"}');
    expect(object.message).toContain('expected a top-level JSON array');
    const hostile = await refusal('hostile.json', '[{"id": "fine"}, {"id": "a/../../b"}]');
    expect(hostile.message).toContain(`"a/../../b" from ${folder.path('hostile.json')}[1]`);
  });

  it('streams a large JSONL file: the first record arrives before the file is read to its end', async () => {
    const lines = Array.from({ length: 200_000 }, (_, index) =>
      JSON.stringify({ id: `r${index}`, text: 'x'.repeat(40) }),
    );
    folder.write('big.jsonl', `${lines.join('\n')}\n`);
    const config = await configWithSource(folder, ['type: jsonl', 'path: big.jsonl']);
    const iterator = openSource(config)[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.id).toBe('r0');
    // Truncate the file under the reader: a reader that had slurped it would still yield every line.
    truncateSync(folder.path('big.jsonl'), 0);
    // What was already read arrives (its last line is usually cut short: an error at that line).
    let more = 0;
    let stoppedAt = 0;
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) more++;
    } catch (error) {
      expect((error as SourceError).code).toBe('SOURCE_INVALID_JSON');
      stoppedAt = (error as SourceError).line ?? 0;
    }
    expect(more).toBeLessThan(50_000);
    expect(stoppedAt).toBeLessThan(50_000);
  });
});
