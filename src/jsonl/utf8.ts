import { isUtf8 } from 'node:buffer';

/**
 * Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or -1 when every byte is. Used only to point at
 * the fault once a fast check has failed, so clarity wins over speed here.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] as number;
    const length = sequenceLength(bytes, index, lead);
    if (length === 0) return index;
    index += length;
  }
  return -1;
}

/** Length of the valid sequence starting at `index`, or 0 when it is not one. */
function sequenceLength(bytes: Uint8Array, index: number, lead: number): number {
  if (lead < 0x80) return 1;
  // The allowed range of the second byte depends on the lead (excludes overlongs and surrogates).
  let count: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) count = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    count = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    count = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  for (let offset = 1; offset < count; offset++) {
    const byte = bytes[index + offset];
    if (byte === undefined) return 0;
    const [min, max] = offset === 1 ? [low, high] : [0x80, 0xbf];
    if (byte < min || byte > max) return 0;
  }
  return count;
}

/**
 * Where the last complete sequence of `bytes` ends: a multi-byte sequence cut by the end of a chunk
 * is left for the next chunk.
 */
function completeLength(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if (byte < 0x80) return bytes.length;
    if (byte >= 0xc0) {
      // Bytes that never start a sequence are left in place for the check to find.
      if (byte < 0xc2 || byte > 0xf4) return bytes.length;
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/** Where a stream's first invalid UTF-8 byte is: its 1-based line and file offset. */
export interface Utf8Fault {
  line: number;
  byteOffset: number;
}

/** Where a whole file read into memory stops being UTF-8 (its 1-based line and byte offset), or undefined. */
export function utf8Fault(bytes: Uint8Array): Utf8Fault | undefined {
  if (isUtf8(bytes)) return undefined;
  const byteOffset = invalidUtf8Offset(bytes);
  const line = 1 + bytes.subarray(0, byteOffset).filter((byte) => byte === 0x0a).length;
  return { line, byteOffset };
}

/**
 * Checks a byte stream chunk by chunk (sequences cut between chunks included), keeping only the
 * line count and at most 3 bytes: `push` each chunk, then `end`; each returns the first fault or
 * undefined.
 */
export class Utf8StreamCheck {
  private carry: Buffer = Buffer.alloc(0);
  private offset = 0;
  private line = 1;

  push(chunk: Buffer): Utf8Fault | undefined {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const complete = completeLength(bytes);
    const body = bytes.subarray(0, complete);
    if (!isUtf8(body)) return this.fault(body, invalidUtf8Offset(body));
    this.line += countNewlines(body);
    this.offset += complete;
    this.carry = Buffer.from(bytes.subarray(complete));
    return undefined;
  }

  end(): Utf8Fault | undefined {
    return this.carry.length > 0 ? this.fault(this.carry, 0) : undefined;
  }

  private fault(bytes: Buffer, at: number): Utf8Fault {
    return { line: this.line + countNewlines(bytes.subarray(0, at)), byteOffset: this.offset + at };
  }
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let index = bytes.indexOf(0x0a); index >= 0; index = bytes.indexOf(0x0a, index + 1)) count++;
  return count;
}
