import type { ByteSource, Reading } from './byte-source.js';

/**
 * Seconds of an Ogg stream (Vorbis, Opus or FLAC audio): the granule position of the stream's last
 * page, which counts samples, over the sample rate its identification header gives (Opus counts at
 * 48 kHz always and starts after its pre-skip). Undefined for another codec (Theora, Speex) or a
 * page too damaged to read.
 */
export function* oggSeconds(source: ByteSource): Reading<number | undefined> {
  const first = yield* oggPage(source, 0);
  if (!first) return undefined;
  const rate = samplingOf(yield* source.bytes(first.bodyStart, first.bodyEnd));
  if (!rate) return undefined;
  const samples = yield* lastGranule(source, first.serial);
  if (samples === undefined) return undefined;
  return Math.max(0, samples - rate.skip) / rate.hz;
}

/** Bytes of a page header before its segment table. */
const PAGE_HEADER_BYTES = 27;

interface OggPage {
  granule: bigint;
  serial: number;
  bodyStart: number;
  bodyEnd: number;
}

/** The page at `at`, or undefined when no whole page header starts there. */
function* oggPage(source: ByteSource, at: number): Reading<OggPage | undefined> {
  // The header and its segment table (at most 255 entries).
  const header = yield* source.bytes(at, at + PAGE_HEADER_BYTES + 255);
  if (header.length < PAGE_HEADER_BYTES || header.toString('latin1', 0, 4) !== 'OggS') return undefined;
  const segments = header.readUInt8(26);
  const bodyStart = at + PAGE_HEADER_BYTES + segments;
  if (bodyStart > source.length) return undefined;
  let bodyBytes = 0;
  for (let index = 0; index < segments; index++) bodyBytes += header.readUInt8(PAGE_HEADER_BYTES + index);
  return {
    granule: header.readBigInt64LE(6),
    serial: header.readUInt32LE(14),
    bodyStart,
    bodyEnd: Math.min(source.length, bodyStart + bodyBytes),
  };
}

/** Samples a second, and samples to skip at the start, from a stream's first packet. */
function samplingOf(packet: Buffer): { hz: number; skip: number } | undefined {
  if (packet.length >= 16 && packet.toString('latin1', 0, 7) === '\x01vorbis')
    return { hz: packet.readUInt32LE(12), skip: 0 };
  if (packet.length >= 12 && packet.toString('latin1', 0, 8) === 'OpusHead')
    return { hz: 48_000, skip: packet.readUInt16LE(10) };
  // Ogg FLAC: a 13-byte mapping header, then the native STREAMINFO block (its rate in 20 bits).
  if (packet.length >= 30 && packet.toString('latin1', 0, 5) === '\x7fFLAC') {
    const hz = (packet.readUInt8(27) << 12) | (packet.readUInt8(28) << 4) | (packet.readUInt8(29) >> 4);
    return { hz, skip: 0 };
  }
  return undefined;
}

/**
 * The granule position of the last page of stream `serial` that has one (-1 marks a page where no
 * packet ends), searched from the end, where the last page is.
 */
function* lastGranule(source: ByteSource, serial: number): Reading<number | undefined> {
  for (let at = yield* lastCapture(source, source.length - PAGE_HEADER_BYTES); at >= 0;) {
    const page = yield* oggPage(source, at);
    if (page && page.serial === serial && page.granule >= 0n) return Number(page.granule);
    at = at === 0 ? -1 : yield* lastCapture(source, at - 1);
  }
  return undefined;
}

/** Bytes searched at a time, backwards, for a page's capture pattern. */
const SEARCH_BYTES = 64 * 1024;

/** Where the last capture pattern `OggS` starting at or before `before` is, or -1. */
function* lastCapture(source: ByteSource, before: number): Reading<number> {
  let end = Math.min(before + 4, source.length);
  while (end >= 4) {
    const start = Math.max(0, end - SEARCH_BYTES);
    const found = (yield* source.bytes(start, end)).lastIndexOf('OggS', undefined, 'latin1');
    if (found >= 0) return start + found;
    if (start === 0) return -1;
    end = start + 3; // a pattern across the edge of the bytes searched is found in the next ones
  }
  return -1;
}
