import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** One complete line of a shard: where it starts, its length without the newline, and its text. */
export interface ShardLine {
  offset: number;
  length: number;
  text: string;
}

const NEWLINE = 0x0a;

/** Streams the complete (newline-terminated) lines of a shard's first `end` bytes, with their offsets. */
export async function* shardLines(path: string, end: number): AsyncGenerator<ShardLine> {
  if (end <= 0) return;
  let pieces: Buffer[] = [];
  let lineStart = 0;
  let position = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: end - 1 }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, from);
      if (newline < 0) {
        if (from < chunk.length) pieces.push(chunk.subarray(from));
        break;
      }
      const tail = chunk.subarray(from, newline);
      const bytes = pieces.length === 0 ? tail : Buffer.concat([...pieces, tail]);
      pieces = [];
      const offset = lineStart;
      lineStart = position + newline + 1;
      yield { offset, length: bytes.length, text: bytes.toString('utf8') };
      from = newline + 1;
    }
    position += chunk.length;
  }
}

/** The length of a file's newline-terminated prefix: where a torn last line (a crash mid-write) begins. */
export async function completeLinesEnd(path: string, size: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const block = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const last = block.subarray(0, bytesRead).lastIndexOf(NEWLINE);
      if (last >= 0) return start + last + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}
