import { writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileByteSource, readBuffer, type Parse } from '../../src/media/byte-source.js';
import { mediaDurationSeconds } from '../../src/media/media-duration.js';
import { adtsBytes, cbrMp3Bytes, flacBytes, mp4Bytes, wavBytes, webmBytes } from './timed-media.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-byte-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `parse` over `source`, counting the bytes it is given. */
function counted<T>(parse: Parse<T>): { parse: Parse<T>; asked: () => number } {
  let asked = 0;
  return {
    parse: (source) =>
      parse({
        length: source.length,
        *bytes(start, end) {
          const bytes = yield* source.bytes(start, end);
          asked += bytes.length;
          return bytes;
        },
      }),
    asked: () => asked,
  };
}

/** The bytes from `start` to `end`, as a parse. */
const range =
  (start: number, end: number): Parse<Buffer> =>
  (source) =>
    source.bytes(start, end);

describe('the length of audio and video from their headers only', () => {
  it('reads a few hundred bytes of a file hundreds of KB long', () => {
    for (const [name, bytes, seconds] of [
      ['wav', wavBytes(30), 30],
      ['mp4, moov last', mp4Bytes(20), 20],
      ['webm', webmBytes(9), 9],
      ['flac', flacBytes(12), 12],
      ['mp3', Buffer.concat([cbrMp3Bytes(10), Buffer.alloc(300_000)]), undefined],
    ] as const) {
      const { parse, asked } = counted(mediaDurationSeconds);
      const found = readBuffer(bytes, parse);
      if (seconds !== undefined) expect(found, name).toBeCloseTo(seconds, 3);
      expect(asked(), name).toBeLessThan(1024);
    }
  });

  it('reads a file by position as its bytes in memory give it, across its 64 KB blocks', async () => {
    const bytes = Buffer.alloc(200_000);
    for (let index = 0; index < bytes.length; index++) bytes[index] = index % 251;
    const path = join(dir, 'data.bin');
    writeFileSync(path, bytes);
    const handle = await open(path, 'r');
    try {
      const file = new FileByteSource(handle, bytes.length);
      for (const [start, end] of [
        [0, 10],
        [65_530, 65_540], // across a block's end
        [100, 150_000], // more than a block
        [199_990, 200_100], // past the end: clipped
        [-5, 3],
        [300_000, 300_010],
      ] as const)
        expect(
          (await file.read(range(start, end))).equals(readBuffer(bytes, range(start, end))),
          `${start}-${end}`,
        ).toBe(true);
    } finally {
      await handle.close();
    }
  });

  // The reads were synchronous: walking the frame headers of up to 64 MB of ADTS held the event loop
  // (every request in flight) until the walk ended. Each block's read is now awaited.
  it('walks an ADTS file a block at a time, letting the event loop run between the reads', async () => {
    const bytes = adtsBytes(3000); // 600 KB: ten 64 KB blocks
    const path = join(dir, 'a.aac');
    writeFileSync(path, bytes);
    let turns = 0;
    let looking = true;
    const turn = (): void => {
      turns++;
      if (looking) setImmediate(turn);
    };
    setImmediate(turn);
    const handle = await open(path, 'r');
    try {
      const seconds = await new FileByteSource(handle, bytes.length).read(mediaDurationSeconds);
      looking = false;
      expect(seconds).toBe(readBuffer(bytes, mediaDurationSeconds));
      expect(seconds).toBeGreaterThan(0);
      expect(turns).toBeGreaterThanOrEqual(5);
    } finally {
      looking = false;
      await handle.close();
    }
  });
});
