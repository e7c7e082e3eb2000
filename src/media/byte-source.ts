import type { FileHandle } from 'node:fs/promises';

/**
 * Bytes read by position, without holding them all: the container parsers (media-duration.ts) read
 * only the headers they need through it. A parser is a generator (a Reading) that yields each range
 * it needs and is handed its bytes, so one parser reads a Buffer synchronously (`readBuffer`: the
 * emulator's uploads, a request's inline data) and an open file without blocking the event loop
 * (`FileByteSource.read`).
 */
export interface ByteSource {
  /** Bytes in all. */
  readonly length: number;
  /** The bytes from `start` to `end`, clipped to the source (fewer, or none, past its end): `yield*` it. */
  bytes(start: number, end: number): Reading<Buffer>;
}

/** A range of bytes a parser asks for. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** A parse over a ByteSource: it yields the ranges it needs, is given their bytes, and returns a T. */
export type Reading<T> = Generator<ByteRange, T, Buffer>;

/** What reads a source: a parser given the source's length and a way to ask for its bytes. */
export type Parse<T> = (source: ByteSource) => Reading<T>;

function sourceOfLength(length: number): ByteSource {
  return {
    length,
    *bytes(start, end) {
      return yield { start, end };
    },
  };
}

/** The bytes of `data` from `start` to `end`, clipped to it. */
function clipped(data: Buffer, { start, end }: ByteRange): Buffer {
  return data.subarray(Math.max(0, start), Math.max(0, end));
}

/** `parse` run over bytes in memory, synchronously. */
export function readBuffer<T>(data: Buffer, parse: Parse<T>): T {
  const reading = parse(sourceOfLength(data.length));
  for (let step = reading.next(); ; step = reading.next(clipped(data, step.value))) {
    if (step.done) return step.value;
  }
}

/** Bytes read from a file at a time, and kept until a read outside them. */
const BLOCK_BYTES = 64 * 1024;

/**
 * An open file read by position, a block of 64 KB at a time, each read awaited: a few header reads
 * for most containers, but walking every frame header of an ADTS stream (or searching an Ogg
 * stream's last page backwards) reads up to the whole 64 MB, which read synchronously held the
 * event loop (and every request in flight) until it ended.
 */
export class FileByteSource {
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;

  /** `handle`: an open file of `length` bytes; it stays open. */
  constructor(
    private readonly handle: FileHandle,
    readonly length: number,
  ) {}

  /**
   * `parse` run over the file. A failed read is thrown into the parse, where it failed, as a
   * synchronous read's error was: the parse's own handling (a duration left unread) applies.
   */
  async read<T>(parse: Parse<T>): Promise<T> {
    const reading = parse(sourceOfLength(this.length));
    let step = reading.next();
    while (!step.done) {
      let bytes: Buffer;
      try {
        bytes = await this.bytes(step.value);
      } catch (error) {
        step = reading.throw(error);
        continue;
      }
      step = reading.next(bytes);
    }
    return step.value;
  }

  private async bytes({ start, end }: ByteRange): Promise<Buffer> {
    const from = Math.max(0, start);
    const to = Math.min(end, this.length);
    if (to <= from) return Buffer.alloc(0);
    const cached = from >= this.blockStart && to <= this.blockStart + this.block.length;
    if (!cached) {
      if (to - from > BLOCK_BYTES) return this.readAt(from, to - from);
      const block = await this.readAt(from, Math.min(BLOCK_BYTES, this.length - from));
      this.blockStart = from;
      this.block = block;
    }
    return this.block.subarray(from - this.blockStart, to - this.blockStart);
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break; // the file shrank: what is there
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }
}
