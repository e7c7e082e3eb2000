import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** What the media uploader needs to know about a file's bytes. */
export interface ContentFacts {
  /** Hex sha256 of the bytes: the key of the media-file cache. */
  sha256: string;
  /** Pages of a PDF (from its `/Type /Page` objects, at least 1); undefined for other types. */
  pdfPages?: number;
}

const PAGE_OBJECT = /\/Type\s*\/Page(?![s\w])/g;
/** Longer than any page marker plus its look-ahead, so a marker split across chunks is still seen once. */
const OVERLAP = 64;

/**
 * Hashes a file (and counts a PDF's pages) in one streamed read, so a large scan or PDF is never
 * held in memory whole.
 */
export async function readContentFacts(path: string, mimeType: string): Promise<ContentFacts> {
  const hash = createHash('sha256');
  const pages = mimeType === 'application/pdf' ? new PageCounter() : undefined;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    pages?.add(chunk);
  }
  const sha256 = hash.digest('hex');
  return pages ? { sha256, pdfPages: Math.max(1, pages.finish()) } : { sha256 };
}

/** Counts page markers over a stream of chunks, keeping only a short tail between chunks. */
class PageCounter {
  private tail = '';
  /** Where, in `tail`, markers not yet counted may start. */
  private from = 0;
  private count = 0;

  add(chunk: Buffer): void {
    const text = this.tail + chunk.toString('latin1');
    if (text.length <= OVERLAP) {
      this.tail = text;
      return;
    }
    // Count markers starting before the last OVERLAP characters: they are complete, look-ahead included.
    this.count += markersBetween(text, this.from, text.length - OVERLAP);
    this.tail = text.slice(text.length - OVERLAP);
    this.from = 0;
  }

  finish(): number {
    return this.count + markersBetween(this.tail, this.from, this.tail.length);
  }
}

/** Pages of a PDF held in memory (decoded as latin1), counted as the streamed reader counts them; at least 1. */
export function pdfPagesIn(latin1: string): number {
  return Math.max(1, markersBetween(latin1, 0, latin1.length));
}

function markersBetween(text: string, from: number, before: number): number {
  const pattern = new RegExp(PAGE_OBJECT.source, 'g');
  pattern.lastIndex = from;
  let found = 0;
  for (let match = pattern.exec(text); match && match.index < before; match = pattern.exec(text)) found++;
  return found;
}
