import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource, RecordIdError, SourceError } from '../../src/workload/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { collect, configWithSource, drainError } from './source-config.js';

const LEVELS = ['type: directory', 'path: dataset', 'levels: [state, school, year]'];

describe('directory source', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder('wb-directory-');
  });
  afterEach(() => folder.remove());

  function page(path: string, content = 'text'): void {
    folder.write(`dataset/${path}`, content);
  }

  it('refuses two pages with the same number in one folder, naming both', async () => {
    page('MA/harvard/1901/page_10.png');
    page('MA/harvard/1901/page_2.jpg');
    page('MA/harvard/1901/page_1.txt');
    page('MA/harvard/1901/scan-3-v2.webp'); // the last number is the page number: 2, like page_2.jpg
    const config = await configWithSource(folder, LEVELS);
    const error = await drainError(openSource(config));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe('SOURCE_DUPLICATE_PAGE');
    expect(error.message).toContain(folder.path('dataset/MA/harvard/1901/page_2.jpg'));
    expect(error.message).toContain(folder.path('dataset/MA/harvard/1901/scan-3-v2.webp'));
  });

  it('orders by the number, not the name, and describes each page', async () => {
    page('MA/harvard/1901/page_10.png');
    page('MA/harvard/1901/page_2.jpg');
    page('MA/harvard/1901/page_1.txt');
    page('MA/harvard/1901/page_3.md');
    page('MA/harvard/1901/page_4.pdf');
    page('MA/harvard/1901/page_5.HEIC');
    page('MA/harvard/1901/notes.doc'); // not a page extension: ignored
    page('MA/harvard/1901/.page_6.txt'); // hidden: ignored
    page('MA/harvard/readme.txt'); // above the leaf depth: ignored
    const config = await configWithSource(folder, LEVELS);
    const records = await collect(openSource(config));
    expect(records.map((record) => [record.id, record.position, record.media[0]?.mimeType])).toEqual([
      ['MA/harvard/1901/page_1', 1, 'text/plain'],
      ['MA/harvard/1901/page_2', 2, 'image/jpeg'],
      ['MA/harvard/1901/page_3', 3, 'text/markdown'],
      ['MA/harvard/1901/page_4', 4, 'application/pdf'],
      ['MA/harvard/1901/page_5', 5, 'image/heic'],
      ['MA/harvard/1901/page_10', 10, 'image/png'],
    ]);
    expect(records[1]).toEqual({
      id: 'MA/harvard/1901/page_2',
      chainId: 'MA/harvard/1901',
      position: 2,
      vars: { state: 'MA', school: 'harvard', year: '1901', page: 2, file: 'MA/harvard/1901/page_2.jpg' },
      media: [{ path: folder.path('dataset/MA/harvard/1901/page_2.jpg'), mimeType: 'image/jpeg' }],
      origin: folder.path('dataset/MA/harvard/1901/page_2.jpg'),
    });
  });

  it('walks folders in a deterministic sorted order', async () => {
    for (const leaf of ['NY/columbia/1910', 'MA/mit/1905', 'MA/harvard/1901', 'CT/yale/1920'])
      page(`${leaf}/p1.txt`);
    const config = await configWithSource(folder, LEVELS);
    const chains = (await collect(openSource(config))).map((record) => record.chainId);
    expect(chains).toEqual(['CT/yale/1920', 'MA/harvard/1901', 'MA/mit/1905', 'NY/columbia/1910']);
  });

  it('filters levels by a list of values and by a numeric range', async () => {
    for (const leaf of [
      'MA/harvard/1899',
      'MA/harvard/1901',
      'MA/mit/1950',
      'MA/mit/1951',
      'NY/columbia/1920',
      'CT/yale/1920',
      'NY/cornell/undated',
    ]) {
      page(`${leaf}/page_1.txt`);
    }
    const config = await configWithSource(folder, [
      ...LEVELS,
      'filters:',
      '  state: [MA, NY]',
      '  year: { min: 1900, max: 1950 }',
    ]);
    const chains = (await collect(openSource(config))).map((record) => record.chainId);
    expect(chains).toEqual(['MA/harvard/1901', 'MA/mit/1950', 'NY/columbia/1920']);
  });

  it('takes only the leaves of the allow list (comments and blank lines ignored)', async () => {
    for (const leaf of ['MA/harvard/1901', 'MA/mit/1905', 'NY/columbia/1910', 'CT/yale/1920'])
      page(`${leaf}/page_1.txt`);
    folder.write(
      'allow.txt',
      '# the ones we paid for\n\nMA/harvard/1901\n  /NY/columbia/1910/  \nTX/rice/1912\n',
    );
    const config = await configWithSource(folder, [...LEVELS, 'allow_list: allow.txt']);
    const chains = (await collect(openSource(config))).map((record) => record.chainId);
    expect(chains).toEqual(['MA/harvard/1901', 'NY/columbia/1910']);
  });

  it('combines the allow list with filters', async () => {
    for (const leaf of ['MA/harvard/1901', 'MA/mit/1905']) page(`${leaf}/page_1.txt`);
    folder.write('allow.txt', 'MA/harvard/1901\nMA/mit/1905\n');
    const config = await configWithSource(folder, [
      ...LEVELS,
      'allow_list: allow.txt',
      'filters:',
      '  school: [mit]',
    ]);
    expect((await collect(openSource(config))).map((record) => record.chainId)).toEqual(['MA/mit/1905']);
  });

  it('rejects allow-list lines of the wrong depth, naming the line', async () => {
    page('MA/harvard/1901/page_1.txt');
    folder.write('allow.txt', 'MA/harvard/1901\nMA/harvard\n');
    const config = await configWithSource(folder, [...LEVELS, 'allow_list: allow.txt']);
    const error = (await drainError(openSource(config))) as SourceError;
    expect(error.code).toBe('SOURCE_ALLOW_LIST_INVALID');
    expect(error.message).toContain('allow.txt line 2');
  });

  it('reports an allow list deleted after loading', async () => {
    page('MA/harvard/1901/page_1.txt');
    folder.write('allow.txt', 'MA/harvard/1901\n');
    const config = await configWithSource(folder, [...LEVELS, 'allow_list: allow.txt']);
    rmSync(folder.path('allow.txt'));
    const error = (await drainError(openSource(config))) as SourceError;
    expect(error.code).toBe('SOURCE_ALLOW_LIST_MISSING');
    expect(error.message).toContain(folder.path('allow.txt'));
  });

  it('reports a source folder that disappeared after loading', async () => {
    page('MA/harvard/1901/page_1.txt');
    const config = await configWithSource(folder, LEVELS);
    rmSync(folder.path('dataset'), { recursive: true });
    const error = (await drainError(openSource(config))) as SourceError;
    expect(error.code).toBe('SOURCE_NOT_FOUND');
  });

  it('reads folders lazily: a leaf written after the walk started, in a folder not yet read, is found', async () => {
    page('A/one/1900/page_1.txt');
    folder.folder('dataset/Z/two');
    const config = await configWithSource(folder, LEVELS);
    const iterator = openSource(config)[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.id).toBe('A/one/1900/page_1');
    page('Z/two/1900/page_1.txt');
    expect((await iterator.next()).value?.id).toBe('Z/two/1900/page_1');
    expect((await iterator.next()).done).toBe(true);
  });

  it('without levels, makes every folder that holds pages a chain, at any depth', async () => {
    page('a/page_1.txt');
    page('a/b/c/page_1.txt');
    page('a/b/c/page_2.txt');
    page('page_1.txt');
    folder.folder('dataset/empty/deeper');
    const config = await configWithSource(folder, ['type: directory', 'path: dataset']);
    const records = await collect(openSource(config));
    expect(records.map((record) => [record.id, record.chainId])).toEqual([
      ['page_1', '.'],
      ['a/page_1', 'a'],
      ['a/b/c/page_1', 'a/b/c'],
      ['a/b/c/page_2', 'a/b/c'],
    ]);
    expect(records[2]?.vars).toEqual({ page: 1, file: 'a/b/c/page_1.txt' });
  });

  it('takes only the configured extensions', async () => {
    page('book/page_1.png');
    page('book/page_2.txt');
    const config = await configWithSource(folder, ['type: directory', 'path: dataset', 'extensions: [png]']);
    expect((await collect(openSource(config))).map((record) => record.id)).toEqual(['book/page_1']);
  });

  it('refuses a page without a number and a folder name that cannot be an id', async () => {
    page('book/cover.png');
    const config = await configWithSource(folder, ['type: directory', 'path: dataset']);
    const missing = (await drainError(openSource(config))) as SourceError;
    expect(missing.code).toBe('SOURCE_PAGE_NUMBER_MISSING');
    expect(missing.message).toContain(folder.path('dataset/book/cover.png'));

    folder.remove();
    folder = makeTempFolder('wb-directory-');
    page('my book/page_1.png');
    const spaced = await configWithSource(folder, ['type: directory', 'path: dataset']);
    const error = await drainError(openSource(spaced));
    expect(error).toBeInstanceOf(RecordIdError);
    expect(error.message).toContain('"my book/page_1"');
    expect(error.message).toContain(folder.path('dataset/my book/page_1.png'));
  });

  it('refuses a folder or page whose name is not UTF-8 by its folder, instead of a bare ENOENT', async () => {
    // `café` in Latin-1: opendir reads the name with U+FFFD, which names no file.
    const latin1 = Buffer.concat([Buffer.from(folder.path('dataset/caf')), Buffer.from([0xe9])]);
    mkdirSync(latin1, { recursive: true });
    writeFileSync(Buffer.concat([latin1, Buffer.from('/page_1.txt')]), 'text');
    const config = await configWithSource(folder, ['type: directory', 'path: dataset']);
    const error = (await drainError(openSource(config))) as SourceError;
    expect(error).toBeInstanceOf(SourceError);
    expect(error.code).toBe('SOURCE_INVALID_UTF8');
    expect(error.message).toContain(`${folder.path('dataset')} holds an entry whose name is not valid UTF-8`);
  });

  it('writes a control character of the folder an invalid id comes from as \\uXXXX: the error stays one line', async () => {
    page('bo\nok/page_1.txt');
    const config = await configWithSource(folder, ['type: directory', 'path: dataset']);
    const error = await drainError(openSource(config));
    expect(error).toBeInstanceOf(RecordIdError);
    expect(error.message).toContain(`from ${folder.path('dataset/bo')}\\u000aok/page_1.txt cannot name`);
    expect(error.message).not.toContain('\n');
  });

  it('writes the control characters of a folder a page-number error names as \\uXXXX: one line, no ESC', async () => {
    page('bo\nok\u001b[2J/cover.txt');
    const config = await configWithSource(folder, ['type: directory', 'path: dataset']);
    const error = (await drainError(openSource(config))) as SourceError;
    expect(error).toBeInstanceOf(SourceError);
    expect(error.code).toBe('SOURCE_PAGE_NUMBER_MISSING');
    expect(error.message).toContain(
      `${folder.path('dataset/bo')}\\u000aok\\u001b[2J/cover.txt has no page number`,
    );
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('\u001b');
  });
});
