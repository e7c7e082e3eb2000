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
