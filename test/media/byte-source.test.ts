import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bufferSource, FileByteSource, type ByteSource } from '../../src/media/byte-source.js';
import { mediaDurationSeconds } from '../../src/media/media-duration.js';
import { cbrMp3Bytes, flacBytes, mp4Bytes, wavBytes, webmBytes } from './timed-media.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-byte-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `data` as a ByteSource that counts the bytes asked of it. */
function counted(data: Buffer): { source: ByteSource; asked: () => number } {
  const inner = bufferSource(data);
  let asked = 0;
  return {
    source: {
      length: inner.length,
      bytes: (start, end) => {
        const bytes = inner.bytes(start, end);
        asked += bytes.length;
        return bytes;
      },
    },
    asked: () => asked,
  };
}

describe('the length of audio and video from their headers only', () => {
  it('reads a few hundred bytes of a file hundreds of KB long', () => {
    for (const [name, bytes, seconds] of [
      ['wav', wavBytes(30), 30],
      ['mp4, moov last', mp4Bytes(20), 20],
      ['webm', webmBytes(9), 9],
      ['flac', flacBytes(12), 12],
      ['mp3', Buffer.concat([cbrMp3Bytes(10), Buffer.alloc(300_000)]), undefined],
    ] as const) {
      const { source, asked } = counted(bytes);
      const found = mediaDurationSeconds(source);
      if (seconds !== undefined) expect(found, name).toBeCloseTo(seconds, 3);
      expect(asked(), name).toBeLessThan(1024);
    }
  });

  it('reads a file by position as its bytes in memory give it, across its 64 KB blocks', () => {
    const bytes = Buffer.alloc(200_000);
    for (let index = 0; index < bytes.length; index++) bytes[index] = index % 251;
    const path = join(dir, 'data.bin');
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    try {
      const file = new FileByteSource(fd, bytes.length);
      for (const [start, end] of [
        [0, 10],
        [65_530, 65_540], // across a block's end
        [100, 150_000], // more than a block
        [199_990, 200_100], // past the end: clipped
        [-5, 3],
        [300_000, 300_010],
      ] as const)
        expect(file.bytes(start, end).equals(bufferSource(bytes).bytes(start, end)), `${start}-${end}`).toBe(
          true,
        );
    } finally {
      closeSync(fd);
    }
  });
});
