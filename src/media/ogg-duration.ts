/**
 * Seconds of an Ogg stream (Vorbis, Opus or FLAC audio): the granule position of the stream's last
 * page, which counts samples, over the sample rate its identification header gives (Opus counts at
 * 48 kHz always and starts after its pre-skip). Undefined for another codec (Theora, Speex) or a
 * page too damaged to read.
 */
export function oggSeconds(data: Buffer): number | undefined {
  const first = oggPage(data, 0);
  if (!first) return undefined;
  const rate = samplingOf(data.subarray(first.bodyStart, first.bodyEnd));
  if (!rate) return undefined;
  const samples = lastGranule(data, first.serial);
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
function oggPage(data: Buffer, at: number): OggPage | undefined {
  if (at + PAGE_HEADER_BYTES > data.length || data.toString('latin1', at, at + 4) !== 'OggS')
    return undefined;
  const segments = data.readUInt8(at + 26);
  const bodyStart = at + PAGE_HEADER_BYTES + segments;
  if (bodyStart > data.length) return undefined;
  let bodyBytes = 0;
  for (let index = 0; index < segments; index++) bodyBytes += data.readUInt8(at + PAGE_HEADER_BYTES + index);
  return {
    granule: data.readBigInt64LE(at + 6),
    serial: data.readUInt32LE(at + 14),
    bodyStart,
    bodyEnd: Math.min(data.length, bodyStart + bodyBytes),
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
function lastGranule(data: Buffer, serial: number): number | undefined {
  for (let at = data.lastIndexOf('OggS', data.length - PAGE_HEADER_BYTES, 'latin1'); at >= 0;) {
    const page = oggPage(data, at);
    if (page && page.serial === serial && page.granule >= 0n) return Number(page.granule);
    at = at === 0 ? -1 : data.lastIndexOf('OggS', at - 1, 'latin1');
  }
  return undefined;
}
