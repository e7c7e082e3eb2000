import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource, SourceError } from '../../src/workload/index.js';
import { makeTempFolder, type TempFolder } from '../config/temp-folder.js';
import { collect, configWithSource, drainError } from './source-config.js';

// The dataset is data, not a capability: nothing it names may make wavebatch read outside it.

describe('table sources: media paths stay in the data folder', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder('wb-media-root-');
    folder.write('outside/secret.txt', 'the secret');
    folder.write('data/pages/p1.txt', 'page one');
  });
  afterEach(() => folder.remove());

  const SOURCE = ['type: jsonl', 'path: data/rows.jsonl', 'media_field: scan'];

  async function refusal(scan: string, sourceYaml = SOURCE): Promise<SourceError> {
    folder.write(
      'data/rows.jsonl',
      `{"id":"ok","scan":"pages/p1.txt"}\n${JSON.stringify({ id: 'bad', scan })}\n`,
    );
    const error = await drainError(openSource(await configWithSource(folder, sourceYaml)));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).code).toBe('SOURCE_MEDIA_OUTSIDE');
    expect(error.message).toContain('line 2');
    expect(error.message).toContain('record "bad"');
    return error as SourceError;
  }

  it('refuses ../ paths, absolute paths such as /proc/self/environ, and links leading out', async () => {
    expect((await refusal('../outside/secret.txt')).message).toContain('source.media_root');
    expect((await refusal('/proc/self/environ')).message).toContain('"/proc/self/environ"');
    symlinkSync(folder.path('outside/secret.txt'), folder.path('data/pages/innocent.txt'));
    expect((await refusal('pages/innocent.txt')).message).toContain(folder.path('outside/secret.txt'));
  });

  it('accepts paths inside the folder (through links that stay inside too), and a wider media_root', async () => {
    symlinkSync(folder.path('data/pages/p1.txt'), folder.path('data/alias.txt'));
    folder.write('data/rows.jsonl', '{"id":"a","scan":"pages/p1.txt"}\n{"id":"b","scan":["alias.txt"]}\n');
    const inside = await collect(openSource(await configWithSource(folder, SOURCE)));
    expect(inside.map((record) => record.media[0]?.path)).toEqual([
      folder.path('data/pages/p1.txt'),
      folder.path('data/alias.txt'),
    ]);

    folder.write('data/rows.jsonl', '{"id":"c","scan":"../outside/secret.txt"}\n');
    const widened = await collect(openSource(await configWithSource(folder, [...SOURCE, 'media_root: .'])));
    expect(widened[0]?.media[0]?.path).toBe(folder.path('outside/secret.txt'));
    // media_root confines too: outside it is still refused.
    await refusal('/proc/self/environ', [...SOURCE, 'media_root: data/pages']);
  });
});

describe('directory sources: symbolic links stay in the dataset', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder('wb-links-');
    folder.write('dataset/book/page_1.txt', 'one');
    folder.write('elsewhere/passwd.txt', 'root:x:0:0');
    folder.write('elsewhere/more/page_1.txt', 'other');
  });
  afterEach(() => folder.remove());

  const SOURCE = ['type: directory', 'path: dataset'];

  it('refuses a page or a folder linked from outside the dataset, naming the link and its target', async () => {
    symlinkSync(folder.path('elsewhere/passwd.txt'), folder.path('dataset/book/page_2.txt'));
    const error = await drainError(openSource(await configWithSource(folder, SOURCE)));
    expect((error as SourceError).code).toBe('SOURCE_LINK_OUTSIDE');
    expect(error.message).toContain(folder.path('dataset/book/page_2.txt'));
    expect(error.message).toContain(folder.path('elsewhere/passwd.txt'));
    expect(error.message).toContain('source.follow_symlinks');

    folder.remove();
    folder = makeTempFolder('wb-links-');
    folder.write('dataset/book/page_1.txt', 'one');
    folder.write('elsewhere/more/page_1.txt', 'other');
    symlinkSync(folder.path('elsewhere/more'), folder.path('dataset/linked'));
    const folderError = await drainError(openSource(await configWithSource(folder, SOURCE)));
    expect((folderError as SourceError).code).toBe('SOURCE_LINK_OUTSIDE');
  });

  it('follows links that stay inside the dataset, and outside ones with follow_symlinks: true', async () => {
    symlinkSync(folder.path('dataset/book/page_1.txt'), folder.path('dataset/book/page_2.txt'));
    const inside = await collect(openSource(await configWithSource(folder, SOURCE)));
    expect(inside.map((record) => record.id)).toEqual(['book/page_1', 'book/page_2']);

    symlinkSync(folder.path('elsewhere/passwd.txt'), folder.path('dataset/book/page_3.txt'));
    const followed = await collect(
      openSource(await configWithSource(folder, [...SOURCE, 'follow_symlinks: true'])),
    );
    expect(followed.map((record) => record.id)).toEqual(['book/page_1', 'book/page_2', 'book/page_3']);
  });

  it('refuses a page link that leads nowhere, naming the link and its target, with or without levels', async () => {
    // Before, the broken link was neither a file nor a folder and was skipped: the chain ended without page 4.
    for (const page of [1, 2, 3]) folder.write(`dataset/letters/school-report/page_00${page}.txt`, `${page}`);
    symlinkSync('nowhere', folder.path('dataset/letters/school-report/page_004.txt'));
    for (const source of [SOURCE, [...SOURCE, 'levels: [collection, item]']]) {
      const error = await drainError(openSource(await configWithSource(folder, source)));
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).code).toBe('SOURCE_LINK_BROKEN');
      expect(error.message).toBe(
        `${folder.path('dataset/letters/school-report/page_004.txt')} is a symbolic link to nowhere, which does not exist: ` +
          'the page or folder it stands for would be left out. Point the link at the file or folder, or remove it',
      );
      expect((error as SourceError).file).toBe(folder.path('dataset/letters/school-report/page_004.txt'));
    }
  });

  it('refuses a folder link that leads nowhere, where the walk would have entered it', async () => {
    symlinkSync(folder.path('elsewhere/gone'), folder.path('dataset/lost-book'));
    const error = await drainError(openSource(await configWithSource(folder, SOURCE)));
    expect((error as SourceError).code).toBe('SOURCE_LINK_BROKEN');
    expect(error.message).toContain(
      `${folder.path('dataset/lost-book')} is a symbolic link to ${folder.path('elsewhere/gone')}, which does not exist`,
    );
  });

  it('ignores a broken link where nothing would be read: not a page in a leaf, hidden, or filtered out', async () => {
    folder.write('dataset/other/page_1.txt', 'one');
    symlinkSync('nowhere', folder.path('dataset/book/notes.bin'));
    symlinkSync('nowhere', folder.path('dataset/book/.page_9.txt'));
    symlinkSync('nowhere', folder.path('dataset/other/page_2.txt'));
    const records = await collect(
      openSource(
        await configWithSource(folder, [...SOURCE, 'levels: [title]', 'filters: { title: [book] }']),
      ),
    );
    expect(records.map((record) => record.id)).toEqual(['book/page_1']);
  });

  it('refuses a page that is a FIFO or a link to a device, naming it, instead of leaving it out', async () => {
    // Before, neither a file nor a folder, it was skipped: the chain ended without that page.
    folder.write('dataset/book/page_3.txt', '3');
    execFileSync('mkfifo', [folder.path('dataset/book/page_2.txt')]);
    const error = await drainError(openSource(await configWithSource(folder, SOURCE)));
    expect((error as SourceError).code).toBe('SOURCE_PAGE_NOT_FILE');
    expect(error.message).toContain(`${folder.path('dataset/book/page_2.txt')} is not a regular file`);

    rmSync(folder.path('dataset/book/page_2.txt'));
    folder.write('dataset/book/page_2.txt', '2');
    symlinkSync('/dev/zero', folder.path('dataset/book/page_4.txt'));
    const linked = await drainError(openSource(await configWithSource(folder, SOURCE)));
    expect((linked as SourceError).code).toBe('SOURCE_PAGE_NOT_FILE');
    expect(linked.message).toContain(folder.path('dataset/book/page_4.txt'));
  });

  it('ignores a link whose name is not a page (not read, so not refused)', async () => {
    symlinkSync(folder.path('elsewhere/passwd.txt'), folder.path('dataset/book/notes.bin'));
    const records = await collect(openSource(await configWithSource(folder, SOURCE)));
    expect(records.map((record) => record.id)).toEqual(['book/page_1']);
  });
});
