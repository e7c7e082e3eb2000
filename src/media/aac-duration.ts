import type { ByteSource, Reading } from './byte-source.js';

/** Samples a second by an ADTS header's sampling-frequency index (ISO/IEC 14496-3). */
const ADTS_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** Bytes of an ID3v1 tag, which some AAC and MP3 files end with. */
const ID3V1_BYTES = 128;

/** Whether the bytes at `at` begin an ADTS (raw AAC) frame: a 12-bit sync word and layer 00. */
export function* isAdtsFrame(source: ByteSource, at: number): Reading<boolean> {
  return isAdtsHeader(yield* source.bytes(at, at + 7));
}

/** Whether `header` is a whole ADTS frame header (7 bytes): a 12-bit sync word and layer 00. */
function isAdtsHeader(header: Buffer): boolean {
  return header.length === 7 && header.readUInt8(0) === 0xff && (header.readUInt8(1) & 0xf6) === 0xf0;
}

/**
 * Seconds of raw AAC in ADTS frames from `at`: ADTS has no length field, so every frame header is
 * read (7 bytes each, a few thousand a minute): its raw data blocks (1,024 samples each) over its
 * sampling rate. Undefined when the frames stop short of the end (a damaged stream, where the
 * count would be too low) other than in a cut-off last frame or an ID3v1 tag.
 */
export function* adtsSeconds(source: ByteSource, at: number): Reading<number | undefined> {
  let seconds = 0;
  for (
    let frame = yield* source.bytes(at, at + 7);
    isAdtsHeader(frame);
    frame = yield* source.bytes(at, at + 7)
  ) {
    const rate = ADTS_SAMPLE_RATES[(frame.readUInt8(2) >> 2) & 0x0f];
    const frameBytes =
      ((frame.readUInt8(3) & 0x03) << 11) | (frame.readUInt8(4) << 3) | (frame.readUInt8(5) >> 5);
    if (!rate || frameBytes < 7) return undefined;
    if (at + frameBytes > source.length) break; // the last frame, cut off: not a whole frame of audio
    seconds += ((1 + (frame.readUInt8(6) & 0x03)) * 1024) / rate;
    at += frameBytes;
  }
  const rest = source.length - at;
  const tail = rest === ID3V1_BYTES && (yield* source.bytes(at, at + 3)).toString('latin1') === 'TAG';
  return seconds > 0 && (rest === 0 || tail || (yield* isAdtsFrame(source, at))) ? seconds : undefined;
}
