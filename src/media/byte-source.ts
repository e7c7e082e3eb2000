import { readSync } from 'node:fs';

/**
 * Bytes read by position, without holding them all: the container parsers (media-duration.ts) read
 * only the headers they need through it, from a Buffer (the emulator's uploads) or an open file.
 */
export interface ByteSource {
  /** Bytes in all. */
  readonly length: number;
  /** The bytes from `start` to `end`, clipped to the source (fewer, or none, past its end). */
  bytes(start: number, end: number): Buffer;
}

/** A Buffer as a ByteSource. */
export function bufferSource(data: Buffer): ByteSource {
  return {
    length: data.length,
    bytes: (start, end) => data.subarray(Math.max(0, start), Math.max(0, end)),
  };
}

/** Bytes read from a file at a time, and kept until a read outside them. */
const BLOCK_BYTES = 64 * 1024;

/**
 * An open file as a ByteSource, read a block of 64 KB at a time. The reads are synchronous (the
 * parsers are): a few header reads for most containers; walking every frame header of an ADTS
 * stream, or searching an Ogg stream's last page backwards, reads more, a block at a time.
 */
export class FileByteSource implements ByteSource {
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;

  /** `fd`: an open file descriptor of a file of `length` bytes; it stays open. */
  constructor(
    private readonly fd: number,
    readonly length: number,
  ) {}

  bytes(start: number, end: number): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(end, this.length);
    if (to <= from) return Buffer.alloc(0);
    const cached = from >= this.blockStart && to <= this.blockStart + this.block.length;
    if (!cached) {
      if (to - from > BLOCK_BYTES) return this.read(from, to - from);
      this.blockStart = from;
      this.block = this.read(from, Math.min(BLOCK_BYTES, this.length - from));
    }
    return this.block.subarray(from - this.blockStart, to - this.blockStart);
  }

  private read(position: number, length: number): Buffer {
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const read = readSync(this.fd, buffer, filled, length - filled, position + filled);
      if (read === 0) break; // the file shrank: what is there
      filled += read;
    }
    return buffer.subarray(0, filled);
  }
}
