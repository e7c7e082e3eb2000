import { createHash } from 'node:crypto';
import { openMediaFile, type OpenMediaFile } from './media-file.js';
import { FileByteSource } from './byte-source.js';
import { mediaDurationSeconds } from './media-duration.js';
import { imageSize } from './image-size.js';
import {
  IMAGE_HEAD_BYTES,
  imageTokensOfSize,
  timedMediaKind,
  timedMediaTokensOfLength,
  TOKENS_PER_IMAGE,
} from './media-tokens.js';

/**
 * Audio and video files up to this size have their length read from their headers as the API reads
 * it (an MP4's `moov` box may sit at the end, an Ogg's length is in its last page), only the headers
 * read, never the whole file held; larger ones are counted at the assumed byte rate (media-tokens.ts).
 */
export const TIMED_MEDIA_READ_BYTES = 64 * 1024 * 1024;

/** What the media uploader needs to know about a file's bytes. */
export interface ContentFacts {
  /** Hex sha256 of the bytes: the key of the media-file cache. */
  sha256: string;
  /** Pages of a PDF (from its `/Type /Page` objects, at least 1); undefined for other types. */
  pdfPages?: number;
  /** Width and height of an image whose header could be read; undefined for other types. */
  imageSize?: { width: number; height: number };
  /** Tokens of an audio or video file up to TIMED_MEDIA_READ_BYTES, by its length; undefined for other types. */
  timedTokens?: number;
}

/**
 * Tokens of the file as Gemini counts them, where its facts tell: a PDF 258 per page, an image
 * 258 per tile by its size, audio and video by their length; undefined for other types.
 */
export function estimatedTokensOf(facts: ContentFacts): number | undefined {
  if (facts.pdfPages !== undefined) return facts.pdfPages * TOKENS_PER_IMAGE;
  if (facts.imageSize !== undefined) return imageTokensOfSize(facts.imageSize);
  return facts.timedTokens;
}

const PAGE_OBJECT = /\/Type\s*\/Page(?![s\w])/g;
/** Longer than any page marker plus its look-ahead, so a marker split across chunks is still seen once. */
const OVERLAP = 64;

/**
 * Hashes a file (and counts a PDF's pages, or reads an image's size from its head) in one streamed
 * read, then reads an audio or video file's length from its headers only: no file is ever held in
 * memory whole (several uploads at once held up to 64 MB each before).
 */
export async function readContentFacts(
  path: string,
  mimeType: string,
  confinedTo?: string,
): Promise<ContentFacts> {
  const file = await openMediaFile(path, confinedTo);
  try {
    return await contentFactsOf(file, mimeType);
  } finally {
    await file.handle.close();
  }
}

/** The facts of an opened media file, read from its start; the handle stays open. */
export async function contentFactsOf(file: OpenMediaFile, mimeType: string): Promise<ContentFacts> {
  const hash = createHash('sha256');
  const pages = mimeType === 'application/pdf' ? new PageCounter() : undefined;
  const head: Buffer[] = [];
  let headBytes = mimeType.startsWith('image/') ? 0 : IMAGE_HEAD_BYTES;
  const timed = timedMediaKind(mimeType);
  let fileBytes = 0;
  for await (const chunk of file.handle.createReadStream({ start: 0, autoClose: false })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    pages?.add(bytes);
    fileBytes += bytes.length;
    if (headBytes < IMAGE_HEAD_BYTES) {
      head.push(bytes.subarray(0, IMAGE_HEAD_BYTES - headBytes));
      headBytes += bytes.length;
    }
  }
  const sha256 = hash.digest('hex');
  if (pages) return { sha256, pdfPages: Math.max(1, pages.finish()) };
  if (timed) {
    if (fileBytes > TIMED_MEDIA_READ_BYTES) return { sha256 };
    // The bytes hashed, by position: the headers the length needs are read again, not held.
    const seconds = await new FileByteSource(file.handle, fileBytes).read(mediaDurationSeconds);
    return { sha256, timedTokens: timedMediaTokensOfLength(timed, seconds, fileBytes) };
  }
  const size = head.length > 0 ? imageSize(Buffer.concat(head)) : undefined;
  return size ? { sha256, imageSize: size } : { sha256 };
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
