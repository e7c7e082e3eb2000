import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource, SourceError } from '../../src/workload/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { collect, configWithSource, drainError } from './source-config.js';

describe('table sources: size limits and encodings', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder('wb-limits-');
  });
  afterEach(() => folder.remove());

  async function sourceError(sourceYaml: string[]): Promise<SourceError> {
    const error = await drainError(openSource(await configWithSource(folder, sourceYaml)));
    expect(error).toBeInstanceOf(SourceError);
    return error as SourceError;
  }

  it('refuses a JSONL line above source.max_record_bytes, naming file, line and key', async () => {
    folder.write('rows.jsonl', `{"id":"a"}\n{"id":"b","text":"${'x'.repeat(500)}"}\n`);
    const error = await sourceError(['type: jsonl', 'path: rows.jsonl', 'max_record_bytes: 200']);
    expect(error.code).toBe('SOURCE_RECORD_TOO_LARGE');
    expect(error.line).toBe(2);
    expect(error.message).toContain(`${folder.path('rows.jsonl')} line 2`);
    expect(error.message).toContain('source.max_record_bytes');
    const records = await collect(
      openSource(
        await configWithSource(folder, ['type: jsonl', 'path: rows.jsonl', 'max_record_bytes: 600']),
      ),
    );
    expect(records.map((record) => record.id)).toEqual(['a', 'b']);
  });

  it('refuses a CSV row above the limit (an unclosed quote swallows the file) by line', async () => {
    folder.write('rows.csv', `id,text\na,short\nb,"${'y'.repeat(500)}\nc,never closed\n`);
    const error = await sourceError(['type: csv', 'path: rows.csv', 'max_record_bytes: 100']);
    expect(error.code).toBe('SOURCE_RECORD_TOO_LARGE');
    expect(error.message).toContain(folder.path('rows.csv'));
    expect(error.message).toContain('source.max_record_bytes');
  });

  it('refuses a JSON array file larger than the limit, since it is read whole', async () => {
    folder.write('rows.json', JSON.stringify([{ id: 'a', text: 'z'.repeat(300) }]));
    const error = await sourceError(['type: json', 'path: rows.json', 'max_record_bytes: 100']);
    expect(error.code).toBe('SOURCE_RECORD_TOO_LARGE');
    expect(error.message).toContain('type: jsonl');
  });

  it('reports invalid UTF-8 in JSONL, CSV and JSON sources by line and byte offset', async () => {
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    writeFileSync(folder.path('rows.jsonl'), latin1('{"id":"a"}\n{"id":"b","city":"Zürich"}\n'));
    writeFileSync(folder.path('rows.csv'), latin1('id,city\na,Bern\nb,Zürich\n'));
    writeFileSync(folder.path('rows.json'), latin1('[\n{"id":"a"},\n{"id":"b","city":"Zürich"}\n]'));
    const cases: Array<[string, number, number]> = [
      ['jsonl', 2, '{"id":"a"}\n{"id":"b","city":"Z'.length],
      ['csv', 3, 'id,city\na,Bern\nb,Z'.length],
      ['json', 3, '[\n{"id":"a"},\n{"id":"b","city":"Z'.length],
    ];
    for (const [type, line, offset] of cases) {
      const error = await sourceError([`type: ${type}`, `path: rows.${type}`]);
      expect(error.code, type).toBe('SOURCE_INVALID_UTF8');
      expect(error.line, type).toBe(line);
      expect(error.message, type).toContain(`rows.${type} line ${line}: byte ${offset} `);
    }
  });

  it('refuses a NUL byte in a CSV by line and byte offset, and names UTF-16 (every other byte a NUL)', async () => {
    writeFileSync(folder.path('rows.csv'), 'id,text\na,fine\nb,x\u0000y\n');
    const error = await sourceError(['type: csv', 'path: rows.csv']);
    expect(error.code).toBe('SOURCE_INVALID_CSV');
    expect(error.line).toBe(3);
    expect(error.message).toContain(
      `rows.csv line 3: byte ${'id,text\na,fine\nb,x'.length} of the file is a NUL`,
    );
    writeFileSync(folder.path('rows.csv'), Buffer.from('id,text\na,fine\n', 'utf16le'));
    const utf16 = await sourceError(['type: csv', 'path: rows.csv']);
    expect(utf16.message).toContain('rows.csv line 1: byte 1 of the file is a NUL (0x00)');
    expect(utf16.message).toContain('UTF-16');
  });

  it('reads a CSV whose multi-byte characters cross the stream chunks', async () => {
    const rows = Array.from({ length: 4000 }, (_, index) => `r${index},Zürich ☕ ${index}`);
    folder.write('rows.csv', `id,city\n${rows.join('\n')}\n`);
    const records = await collect(
      openSource(await configWithSource(folder, ['type: csv', 'path: rows.csv'])),
    );
    expect(records.length).toBe(4000);
    expect(records[3999]?.vars.city).toBe('Zürich ☕ 3999');
  });
});
