import { readSync } from 'node:fs';
import type { OpenMediaFile } from './media-file.js';

/**
 * An opened media file as the SDK's `files.upload` takes a Blob: its first `size` bytes (the size
 * when it was opened and checked), read from that descriptor and never from the path again. Given a
 * path, the SDK opened it once more, and a link or another file swapped in after wavebatch's checks
 * (`ln -sf /proc/self/environ page.png`) was what it uploaded.
 *
 * The SDK asks for its chunks (8 MB) one at a time through the synchronous `slice`, so each is read
 * then, with a synchronous read: only the chunk being sent is in memory, never the whole file.
 */
export function openedFileBlob(file: OpenMediaFile, mimeType: string): Blob {
  return new OpenedFileBlob(file.handle.fd, 0, file.size, mimeType);
}

class OpenedFileBlob extends Blob {
  constructor(
    private readonly fd: number,
    private readonly start: number,
    private readonly end: number,
    type: string,
  ) {
    super([], { type });
    // Blob's own size is of the (empty) parts it was built from; this one's is of its file range.
    Object.defineProperty(this, 'size', { value: end - start });
  }

  override slice(start = 0, end: number = this.size, type?: string): Blob {
    const from = this.start + clamp(start, this.size);
    const to = this.start + clamp(end, this.size);
    const bytes = Buffer.alloc(Math.max(0, to - from));
    let read = 0;
    while (read < bytes.length) {
      const got = readSync(this.fd, bytes, read, bytes.length - read, from + read);
      if (got === 0) throw new Error(`the file ended at byte ${from + read}, before ${to}: it was cut short`);
      read += got;
    }
    return new Blob([bytes], { type: type ?? '' });
  }
}

/** A Blob.slice position: negative counts from the end; kept within 0…size. */
function clamp(position: number, size: number): number {
  return Math.min(size, Math.max(0, position < 0 ? size + position : position));
}
