import { adtsSeconds, isAdtsFrame } from './aac-duration.js';
import type { ByteSource, Reading } from './byte-source.js';
import { matroskaSeconds } from './matroska-duration.js';
import { oggSeconds } from './ogg-duration.js';

/**
 * Seconds of an audio or video file from its container's headers, where they say it cheaply and
 * reliably: WAV (RIFF `fmt ` byte rate and `data` size), MP3 (the Xing/Info frame count, else the
 * first frame's constant bit rate), AAC in ADTS frames (counted), FLAC (STREAMINFO's sample count),
 * Ogg Vorbis/Opus/FLAC (the last page's granule position), WebM/Matroska (Segment Info's Duration)
 * and MP4/MOV (the `mvhd` box's duration and time scale, with or without an `ftyp` box).
 * Undefined for anything else, or headers too short or damaged to read: Gemini counts audio and
 * video by the second (media-tokens.ts), so a duration is what its count needs. Only the headers
 * needed are read from `source`: a file is never held whole. Run it with readBuffer or
 * FileByteSource.read (byte-source.ts).
 */
export function* mediaDurationSeconds(source: ByteSource): Reading<number | undefined> {
  try {
    const seconds = yield* containerSeconds(source);
    return seconds !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Top-level QuickTime atoms a MOV may open with: QuickTime files predate `ftyp`, and many cameras
 * still write none, so `moov` is looked for after any of these.
 */
const QUICKTIME_FIRST_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot', 'junk']);

/** Whether `head` (its first 8 bytes suffice) opens an MP4, 3GP or QuickTime MOV: `ftyp`, or a QuickTime atom. */
export function isMp4OrQuickTime(head: Uint8Array): boolean {
  const boxType = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1', 4, 8);
  return boxType === 'ftyp' || QUICKTIME_FIRST_ATOMS.has(boxType);
}

/** The seconds of whichever container the first bytes name. */
function* containerSeconds(source: ByteSource): Reading<number | undefined> {
  const head = yield* source.bytes(0, 12);
  const magic = head.toString('latin1', 0, 4);
  if (magic === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE') return yield* wavSeconds(source);
  if (isMp4OrQuickTime(head)) return yield* mp4Seconds(source);
  if (magic === 'OggS') return yield* oggSeconds(source);
  if (magic === 'fLaC') return yield* flacSeconds(source);
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return yield* matroskaSeconds(source);
  return yield* mpegAudioSeconds(source);
}

/**
 * A native FLAC's seconds from its first metadata block, STREAMINFO: a 20-bit sample rate and a
 * 36-bit count of samples (0 when the encoder did not know it).
 */
function* flacSeconds(source: ByteSource): Reading<number | undefined> {
  // "fLaC", the block's 4-byte header, then min/max block (2+2) and frame (3+3) sizes.
  const info = 8;
  const data = yield* source.bytes(0, info + 18);
  if (data.length < info + 18 || (data.readUInt8(4) & 0x7f) !== 0) return undefined;
  const rate =
    (data.readUInt8(info + 10) << 12) | (data.readUInt8(info + 11) << 4) | (data.readUInt8(info + 12) >> 4);
  const samples = (data.readUInt8(info + 13) & 0x0f) * 2 ** 32 + data.readUInt32BE(info + 14);
  return rate > 0 && samples > 0 ? samples / rate : undefined;
}

/** A WAV's `data` bytes over the byte rate of its `fmt ` chunk. */
function* wavSeconds(source: ByteSource): Reading<number | undefined> {
  let byteRate: number | undefined;
  for (let at = 12; at + 8 <= source.length;) {
    const header = yield* source.bytes(at, at + 8);
    const id = header.toString('latin1', 0, 4);
    const size = header.readUInt32LE(4);
    if (id === 'fmt ') byteRate = (yield* source.bytes(at + 16, at + 20)).readUInt32LE(0);
    if (id === 'data') {
      // A streamed WAV leaves the size unset (0 or 0xFFFFFFFF): the data runs to the end.
      const available = source.length - (at + 8);
      const bytes = size === 0 || size === 0xffffffff ? available : size;
      return byteRate ? bytes / byteRate : undefined;
    }
    at += 8 + size + (size % 2); // chunks are padded to an even length
  }
  return undefined;
}

/** An MP4/MOV's duration from `moov/mvhd`, wherever `moov` sits among the top-level boxes (atoms). */
function* mp4Seconds(source: ByteSource): Reading<number | undefined> {
  const moov = yield* findBox(source, 0, source.length, 'moov');
  const mvhd = moov && (yield* findBox(source, moov.start, moov.end, 'mvhd'));
  if (!mvhd) return undefined;
  // Version 1 holds 64-bit times: its duration ends 32 bytes in.
  const body = yield* source.bytes(mvhd.start, mvhd.start + 32);
  const version = body[0];
  const [timescale, duration] =
    version === 1
      ? [body.readUInt32BE(20), Number(body.readBigUInt64BE(24))]
      : [body.readUInt32BE(12), body.readUInt32BE(16)];
  return timescale > 0 ? duration / timescale : undefined;
}

/** The body (after its header) of the first box of `type` between `from` and `to`. */
function* findBox(
  source: ByteSource,
  from: number,
  to: number,
  type: string,
): Reading<{ start: number; end: number } | undefined> {
  for (let at = from; at + 8 <= to;) {
    const box = yield* source.bytes(at, at + 16);
    let size = box.readUInt32BE(0);
    let header = 8;
    if (size === 1) {
      size = Number(box.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) size = to - at; // the last box, to the end
    if (size < header) return undefined;
    if (box.toString('latin1', 4, 8) === type) return { start: at + header, end: Math.min(at + size, to) };
    at += size;
  }
  return undefined;
}

/** kbit/s of MPEG audio Layer III by bit-rate index: MPEG-1, then MPEG-2 and 2.5. */
const MP3_BITRATES: Record<'v1' | 'v2', readonly number[]> = {
  v1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

/**
 * An MP3's or ADTS AAC's seconds (both may open with an ID3v2 tag). An MP3's first frame carries a
 * Xing/Info header with the frame count (a VBR file's only reliable length), else its bit rate is
 * taken as constant over the audio; ADTS frames are counted (aac-duration.ts).
 */
function* mpegAudioSeconds(source: ByteSource): Reading<number | undefined> {
  let at = 0;
  const tag = yield* source.bytes(0, 10);
  if (tag.length >= 10 && tag.toString('latin1', 0, 3) === 'ID3') {
    // The tag's size is "syncsafe": 7 bits per byte; a footer (flag 0x10) adds 10 bytes.
    let size = 0;
    for (let index = 6; index < 10; index++) size = (size << 7) | (tag.readUInt8(index) & 0x7f);
    at = 10 + size + (tag.readUInt8(5) & 0x10 ? 10 : 0);
  }
  if (at + 4 > source.length) return undefined;
  if (yield* isAdtsFrame(source, at)) return yield* adtsSeconds(source, at);
  // The frame header (4 bytes), its side information (up to 32) and a Xing/Info header's first 12.
  const frame = yield* source.bytes(at, at + 48);
  const header = frame.readUInt32BE(0);
  if ((header & 0xffe00000) >>> 0 !== 0xffe00000) return undefined;
  const version = (header >>> 19) & 3;
  const layer = (header >>> 17) & 3;
  const sampleRate = MP3_SAMPLE_RATES[version]?.[(header >>> 10) & 3];
  const kbps = MP3_BITRATES[version === 3 ? 'v1' : 'v2'][(header >>> 12) & 15];
  // Layer III only (layer bits 01): the MP3s Gemini takes.
  if (layer !== 1 || !sampleRate || !kbps) return undefined;
  const mono = ((header >>> 6) & 3) === 3;
  const samplesPerFrame = version === 3 ? 1152 : 576;
  const sideInfo = version === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
  const xing = 4 + sideInfo;
  if (at + xing + 12 <= source.length) {
    const tag = frame.toString('latin1', xing, xing + 4);
    if ((tag === 'Xing' || tag === 'Info') && frame.readUInt32BE(xing + 4) & 1)
      return (frame.readUInt32BE(xing + 8) * samplesPerFrame) / sampleRate;
  }
  const { length } = source;
  const trailer =
    length >= 128 && (yield* source.bytes(length - 128, length - 125)).toString('latin1') === 'TAG' ? 128 : 0;
  return ((length - at - trailer) * 8) / (kbps * 1000);
}
