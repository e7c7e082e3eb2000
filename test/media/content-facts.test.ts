import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readContentFacts } from '../../src/media/index.js';
import { timedMediaTokens } from '../../src/media/media-tokens.js';
import { writeNoisePng } from './png.js';
import {
  adtsBytes,
  cbrMp3Bytes,
  flacBytes,
  movBytes,
  mp4Bytes,
  oggBytes,
  vbrMp3Bytes,
  wavBytes,
  webmBytes,
} from './timed-media.js';

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

  // Audio and video were held whole while hashed (up to 64 MB each, several uploads at once): now
  // they are hashed as they stream by and only the headers their length needs are read again.
  it('counts audio and video by the length their headers give, as from their bytes in memory', async () => {
    const files: Array<{ name: string; mimeType: string; bytes: Buffer; seconds?: number }> = [
      // 480 KB: the data chunk's size is read, not the data.
      { name: 'a.wav', mimeType: 'audio/wav', bytes: wavBytes(30), seconds: 30 },
      { name: 'a.mp3', mimeType: 'audio/mpeg', bytes: cbrMp3Bytes(40) },
      { name: 'v.mp3', mimeType: 'audio/mpeg', bytes: vbrMp3Bytes(1000) },
      // 600 KB of frames: every frame header is read, a block at a time.
      { name: 'a.aac', mimeType: 'audio/aac', bytes: adtsBytes(3000) },
      { name: 'a.ogg', mimeType: 'audio/ogg', bytes: oggBytes('opus', 95) },
      { name: 'a.flac', mimeType: 'audio/flac', bytes: flacBytes(12), seconds: 12 },
      // Its moov box comes after the media data.
      { name: 'v.mp4', mimeType: 'video/mp4', bytes: mp4Bytes(20), seconds: 20 },
      { name: 'v.mov', mimeType: 'video/quicktime', bytes: movBytes(7), seconds: 7 },
      { name: 'v.webm', mimeType: 'video/webm', bytes: webmBytes(9), seconds: 9 },
    ];
    for (const { name, mimeType, bytes, seconds } of files) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      const kind = mimeType.startsWith('audio/') ? 'audio' : 'video';
      const facts = await readContentFacts(path, mimeType);
      expect(facts, name).toEqual({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        timedTokens: timedMediaTokens(kind, bytes),
      });
      if (seconds !== undefined)
        expect(facts.timedTokens, name).toBe(Math.ceil(seconds * (kind === 'audio' ? 32 : 263)));
    }
  });
});
