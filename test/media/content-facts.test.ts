import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readContentFacts } from '../../src/media/index.js';
import { writeNoisePng } from './png.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-media-facts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readContentFacts', () => {
  it('hashes the bytes of a multi-chunk file like a one-shot sha256', async () => {
    const path = join(dir, 'page.png');
    writeNoisePng(path, 200, 200, 7); // ~120 KB: several read chunks
    const expected = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
    // The image's size, read from its header, counts its tokens.
    expect(await readContentFacts(path, 'image/png')).toEqual({
      sha256: expected,
      imageSize: { width: 200, height: 200 },
    });
  });

  it("counts a PDF's pages, including a marker split across read chunks, and not /Pages", async () => {
    const chunk = 64 * 1024; // the read stream's chunk size
    const marker = '/Type /Page';
    const filler = (length: number) => 'x'.repeat(length);
    // Marker 1 straddles the first chunk boundary; 2 and 3 are plain; /Pages and /PageLabels are not pages.
    const text =
      filler(chunk - 5) +
      `${marker} ` +
      filler(100) +
      `/Type/Page\n` +
      '/Type /Pages ' +
      `${marker}>>` +
      '/Type /PageLabels';
    const path = join(dir, 'doc.pdf');
    await writeFile(path, text, 'latin1');
    expect((await readContentFacts(path, 'application/pdf')).pdfPages).toBe(3);
    const empty = join(dir, 'empty.pdf');
    await writeFile(empty, '%PDF-1.4');
    expect((await readContentFacts(empty, 'application/pdf')).pdfPages).toBe(1);
  });
});
