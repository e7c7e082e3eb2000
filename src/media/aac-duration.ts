/** Samples a second by an ADTS header's sampling-frequency index (ISO/IEC 14496-3). */
const ADTS_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** Bytes of an ID3v1 tag, which some AAC and MP3 files end with. */
const ID3V1_BYTES = 128;

/** Whether the 4 bytes at `at` begin an ADTS (raw AAC) frame: a 12-bit sync word and layer 00. */
export function isAdtsFrame(data: Buffer, at: number): boolean {
  return at + 7 <= data.length && data.readUInt8(at) === 0xff && (data.readUInt8(at + 1) & 0xf6) === 0xf0;
}

/**
 * Seconds of raw AAC in ADTS frames from `at`: ADTS has no length field, so every frame header is
 * read (7 bytes each, a few thousand a minute): its raw data blocks (1,024 samples each) over its
 * sampling rate. Undefined when the frames stop short of the end (a damaged stream, where the
 * count would be too low) other than in a cut-off last frame or an ID3v1 tag.
 */
export function adtsSeconds(data: Buffer, at: number): number | undefined {
  let seconds = 0;
  while (isAdtsFrame(data, at)) {
    const rate = ADTS_SAMPLE_RATES[(data.readUInt8(at + 2) >> 2) & 0x0f];
    const frameBytes =
      ((data.readUInt8(at + 3) & 0x03) << 11) | (data.readUInt8(at + 4) << 3) | (data.readUInt8(at + 5) >> 5);
    if (!rate || frameBytes < 7) return undefined;
    if (at + frameBytes > data.length) break; // the last frame, cut off: not a whole frame of audio
    seconds += ((1 + (data.readUInt8(at + 6) & 0x03)) * 1024) / rate;
    at += frameBytes;
  }
  const rest = data.length - at;
  const tail = rest === ID3V1_BYTES && data.toString('latin1', at, at + 3) === 'TAG';
  return seconds > 0 && (rest === 0 || tail || isAdtsFrame(data, at)) ? seconds : undefined;
}
