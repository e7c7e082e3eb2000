import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChainAssembler,
  chainDocumentPath,
  type ChainMember,
  type ChainRecordSource,
  type OutputDocument,
} from '../../src/outputs/index.js';

/** Records of one chain held in memory, listed as the store lists them (chain order, paged). */
class Chains implements ChainRecordSource {
  constructor(public members: ChainMember[]) {}
  getRecord(id: string): Promise<ChainMember | null> {
    return Promise.resolve(this.members.find((member) => member.id === id) ?? null);
  }
  listRecords(filter: {
    chainId?: string;
    afterChain?: { chainId: string; position: number };
    limit: number;
  }): Promise<ChainMember[]> {
    const after = filter.afterChain;
    return Promise.resolve(
      this.members
        .filter((member) => filter.chainId === undefined || member.chainId === filter.chainId)
        .filter(
          (member) =>
            !after ||
            member.chainId > after.chainId ||
            (member.chainId === after.chainId && member.position > after.position),
        )
        .sort((a, b) => a.chainId.localeCompare(b.chainId) || a.position - b.position)
        .slice(0, filter.limit),
    );
  }
}

function outputsOf(texts: Map<string, unknown>): { read(id: string): Promise<OutputDocument | null> } {
  return {
    read: (id) =>
      Promise.resolve(
        texts.has(id) ? ({ id, output: texts.get(id), meta: {} } as unknown as OutputDocument) : null,
      ),
  };
}

describe('ChainAssembler', () => {
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('marks every record that is not done in place and keeps the ones after it', async () => {
    root = mkdtempSync(join(tmpdir(), 'wb-assemble-'));
    const chains = new Chains([
      { id: 'c/1', chainId: 'course', position: 1, status: 'done' },
      { id: 'c/2', chainId: 'course', position: 2, status: 'dead' },
      { id: 'c/3', chainId: 'course', position: 3, status: 'done' },
      { id: 'c/4', chainId: 'course', position: 4, status: 'ready' },
    ]);
    const texts = new Map<string, unknown>([
      ['c/1', { text: '# One' }],
      ['c/3', { text: '# Three' }],
    ]);
    const assembler = new ChainAssembler(
      { format: 'markdown', path: root, field: 'text', separator: '\n\n' },
      chains,
      outputsOf(texts),
    );
    assembler.note('c/3');
    await assembler.flush();
    const document = readFileSync(join(root, 'course.md'), 'utf8');
    expect(document.split('\n\n')).toEqual([
      '# One',
      '> **wavebatch: missing** record `c/2` (position 2) failed (a dead letter).',
      '# Three',
      '> **wavebatch: missing** record `c/4` (position 4) is not done yet (ready).\n',
    ]);
    expect(assembler.stats).toEqual({ written: 1, unchanged: 0, skipped: 0 });
  });

  it('renders outputs without a text field as JSON blocks and leaves chains with nothing done alone', async () => {
    root = mkdtempSync(join(tmpdir(), 'wb-assemble-'));
    const chains = new Chains([
      { id: 'a', chainId: 'one', position: 0, status: 'done' },
      { id: 'b', chainId: 'two', position: 0, status: 'in_flight' },
    ]);
    const assembler = new ChainAssembler(
      { format: 'markdown', path: root, separator: '\n\n' },
      chains,
      outputsOf(new Map([['a', { title: 'T' }]])),
    );
    await assembler.rebuildAll();
    expect(readdirSync(root)).toEqual(['one.md']);
    expect(readFileSync(join(root, 'one.md'), 'utf8')).toBe('```json\n{\n  "title": "T"\n}\n```\n');
  });

  it('a crash mid-assembly leaves the previous document whole, and the next rebuild replaces it', async () => {
    root = mkdtempSync(join(tmpdir(), 'wb-assemble-'));
    const chains = new Chains([
      { id: 'p1', chainId: 'book', position: 1, status: 'done' },
      { id: 'p2', chainId: 'book', position: 2, status: 'ready' },
    ]);
    const texts = new Map<string, unknown>([['p1', 'Page one.']]);
    const errors: unknown[] = [];
    const assembler = new ChainAssembler(
      { format: 'markdown', path: root, separator: '\n\n' },
      chains,
      outputsOf(texts),
      (error) => errors.push(error),
    );
    await assembler.rebuildAll();
    const path = join(root, 'book.md');
    const before = readFileSync(path, 'utf8');

    // A temp file from a process killed before its rename is never taken for the document...
    writeFileSync(join(root, '.book.md.99999.tmp'), 'half a docu');
    // ...and this process's write fails between the temp file and the rename: its temp name is taken.
    mkdirSync(join(root, `.book.md.${process.pid}.tmp`));
    chains.members[1] = { id: 'p2', chainId: 'book', position: 2, status: 'done' };
    texts.set('p2', 'Page two.');
    assembler.note('p2');
    await assembler.flush();
    expect(errors).toHaveLength(1);
    expect(readFileSync(path, 'utf8')).toBe(before);

    rmSync(join(root, `.book.md.${process.pid}.tmp`), { recursive: true });
    await assembler.rebuildAll();
    expect(readFileSync(path, 'utf8')).toBe('Page one.\n\nPage two.\n');
  });

  it('encodes hostile chain ids one-to-one into paths inside the folder', () => {
    const base = '/srv/docs';
    const ids = [
      '../../x',
      '/etc/passwd',
      '.hidden',
      'a\\b',
      '..',
      '.',
      'x//y',
      '%2E',
      'a/b',
      'é',
      'x'.repeat(400),
    ];
    const paths = ids.map((id) => chainDocumentPath(base, id, '.md'));
    expect(new Set(paths).size).toBe(ids.length);
    for (const path of paths) {
      expect(path.startsWith(`${base}/`)).toBe(true);
      expect(
        path
          .slice(base.length + 1)
          .split('/')
          .some((part) => part.startsWith('.') || part === ''),
      ).toBe(false);
      expect(Buffer.byteLength(basename(path))).toBeLessThanOrEqual(200);
    }
    expect(chainDocumentPath(base, 'a/b', '.md')).toBe('/srv/docs/a/b.md');
    expect(dirname(chainDocumentPath(base, '../../x', '.md'))).toBe('/srv/docs/%2E./%2E.');
  });
});
