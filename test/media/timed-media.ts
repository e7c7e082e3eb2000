/*
 * Audio and video files built byte by byte, with the headers the emulator reads their length from
 * (and nothing a decoder would need): a WAV, MP3 frames, an MP4 whose `moov` comes last.
 */

/** A PCM WAV of `seconds` of silence: 8 kHz, mono, 16 bits (16,000 bytes a second). */
export function wavBytes(seconds: number): Buffer {
  const sampleRate = 8000;
  const byteRate = sampleRate * 2;
  const data = Buffer.alloc(seconds * byteRate);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(byteRate, 28);
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** An MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz, stereo. */
const MP3_FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x90, 0x00]);
/** Bytes of one such frame (144 x 128000 / 44100). */
const MP3_FRAME_BYTES = 417;

/** An ID3v2.3 tag of `bytes` bytes in all (its size "syncsafe", 7 bits a byte). */
function id3Tag(bytes: number): Buffer {
  const size = bytes - 10;
  const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]);
  for (let index = 0; index < 4; index++) header[9 - index] = (size >> (7 * index)) & 0x7f;
  return Buffer.concat([header, Buffer.alloc(size)]);
}

/** A constant-bit-rate MP3 of `seconds` at 128 kbit/s (16,000 bytes a second) after a 100-byte ID3 tag. */
export function cbrMp3Bytes(seconds: number): Buffer {
  const audio = Buffer.alloc(seconds * 16_000);
  for (let at = 0; at + 4 <= audio.length; at += MP3_FRAME_BYTES) MP3_FRAME_HEADER.copy(audio, at);
  return Buffer.concat([id3Tag(100), audio]);
}

/** A variable-bit-rate MP3 whose first frame's Xing header counts `frames` frames (1,152 samples each). */
export function vbrMp3Bytes(frames: number): Buffer {
  const audio = Buffer.alloc(3 * MP3_FRAME_BYTES);
  for (let at = 0; at < audio.length; at += MP3_FRAME_BYTES) MP3_FRAME_HEADER.copy(audio, at);
  // After the header and 32 bytes of stereo side information: "Xing", flags (1: frame count), count.
  audio.write('Xing', 36, 'latin1');
  audio.writeUInt32BE(1, 40);
  audio.writeUInt32BE(frames, 44);
  return audio;
}

function box(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/** An MP4 of `seconds`: `ftyp`, media data, then `moov` with its `mvhd` (time scale 1000), as many encoders write it. */
export function mp4Bytes(seconds: number): Buffer {
  const mvhd = Buffer.alloc(100); // version 0, flags, creation and modification times, ...
  mvhd.writeUInt32BE(1000, 12); // time scale: units a second
  mvhd.writeUInt32BE(seconds * 1000, 16); // duration in those units
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\0\0isommp42', 'latin1')),
    box('mdat', Buffer.alloc(4096, 7)),
    box('moov', box('mvhd', mvhd)),
  ]);
}

/** An Ogg page of stream 1 with one packet (at most 255 bytes) and a granule position. */
function oggPage(packet: Buffer, granule: bigint, flags: number): Buffer {
  const header = Buffer.alloc(28);
  header.write('OggS', 0, 'latin1');
  header.writeUInt8(flags, 5); // 2: first page of the stream, 4: last
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(1, 14); // serial number
  header.writeUInt8(1, 26); // one segment
  header.writeUInt8(packet.length, 27);
  return Buffer.concat([header, packet]);
}

/**
 * An Ogg file of `seconds`: an identification page (Vorbis at 44.1 kHz, or Opus with a pre-skip of
 * 312 samples), audio pages, and a last page whose granule position counts every sample.
 */
export function oggBytes(codec: 'vorbis' | 'opus', seconds: number): Buffer {
  const id = Buffer.alloc(codec === 'vorbis' ? 30 : 19);
  if (codec === 'vorbis') {
    id.write('\x01vorbis', 0, 'latin1');
    id.writeUInt8(2, 11); // channels
    id.writeUInt32LE(44_100, 12);
  } else {
    id.write('OpusHead', 0, 'latin1');
    id.writeUInt8(1, 8); // version
    id.writeUInt8(2, 9); // channels
    id.writeUInt16LE(312, 10); // pre-skip, in 48 kHz samples
    id.writeUInt32LE(44_100, 12); // the input's rate: information only, Opus runs at 48 kHz
  }
  const rate = codec === 'vorbis' ? 44_100 : 48_000;
  const skip = codec === 'vorbis' ? 0 : 312;
  const total = BigInt(seconds * rate + skip);
  return Buffer.concat([
    oggPage(id, 0n, 2),
    oggPage(Buffer.alloc(200, 1), total / 2n, 0),
    oggPage(Buffer.alloc(200, 2), -1n, 0), // no packet ends here: granule -1
    oggPage(Buffer.alloc(200, 3), total, 4),
  ]);
}

/** An EBML element: its ID's bytes, an 8-byte size, its body. */
function ebml(id: number[], body: Buffer): Buffer {
  const size = Buffer.alloc(8);
  size.writeUInt8(0x01, 0); // 8-byte size marker
  size.writeUIntBE(body.length, 2, 6);
  return Buffer.concat([Buffer.from(id), size, body]);
}

/**
 * A WebM of `seconds`: EBML header, then a Segment of unknown size (as recorders stream it) with a
 * SeekHead, Info (TimestampScale 1 ms, Duration as an 8-byte float) and a Cluster.
 */
export function webmBytes(seconds: number): Buffer {
  const duration = Buffer.alloc(8);
  duration.writeDoubleBE(seconds * 1000);
  const info = ebml(
    [0x15, 0x49, 0xa9, 0x66],
    Buffer.concat([
      ebml([0x2a, 0xd7, 0xb1], Buffer.from([0x0f, 0x42, 0x40])), // TimestampScale 1,000,000 ns
      ebml([0x44, 0x89], duration),
    ]),
  );
  const segment = Buffer.concat([
    Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // unknown size
    ebml([0x11, 0x4d, 0x9b, 0x74], Buffer.alloc(16)),
    info,
    ebml([0x1f, 0x43, 0xb6, 0x75], Buffer.alloc(4096, 9)),
  ]);
  return Buffer.concat([ebml([0x1a, 0x45, 0xdf, 0xa3], ebml([0x42, 0x82], Buffer.from('webm'))), segment]);
}

/** Raw AAC of `frames` ADTS frames (1,024 samples each at 44.1 kHz, 200 bytes each), then an ID3v1 tag. */
export function adtsBytes(frames: number): Buffer {
  const frame = Buffer.alloc(200);
  // Sync word, MPEG-4, layer 00, no CRC; AAC LC, 44.1 kHz (index 4), stereo; the frame's length.
  frame.set([0xff, 0xf1, 0x50, 0x80 | (200 >> 11), (200 >> 3) & 0xff, ((200 & 7) << 5) | 0x1f, 0xfc]);
  const tag = Buffer.alloc(128);
  tag.write('TAG', 0, 'latin1');
  return Buffer.concat([...Array.from({ length: frames }, () => frame), tag]);
}

/** A QuickTime MOV of `seconds` without an `ftyp` box: `wide`, media data, then `moov` (time scale 600). */
export function movBytes(seconds: number): Buffer {
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(600, 12);
  mvhd.writeUInt32BE(seconds * 600, 16);
  return Buffer.concat([
    box('wide', Buffer.alloc(0)),
    box('mdat', Buffer.alloc(4096, 7)),
    box('moov', box('mvhd', mvhd)),
  ]);
}

/** A native FLAC of `seconds` at 48 kHz: "fLaC" and its STREAMINFO block (the last metadata block). */
export function flacBytes(seconds: number): Buffer {
  const info = Buffer.alloc(34);
  const rate = 48_000;
  info.writeUInt8(rate >> 12, 10);
  info.writeUInt8((rate >> 4) & 0xff, 11);
  info.writeUInt8(((rate & 0x0f) << 4) | (1 << 1), 12); // rate's low bits, 2 channels, 16 bits
  info.writeUInt8(0xf0, 13); // bits per sample's low bits; the sample count's top 4 bits are 0
  info.writeUInt32BE(seconds * rate, 14);
  return Buffer.concat([
    Buffer.from('fLaC', 'latin1'),
    Buffer.from([0x80, 0, 0, 34]),
    info,
    Buffer.alloc(1000),
  ]);
}
