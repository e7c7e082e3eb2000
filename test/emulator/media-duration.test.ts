import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, sdkFor } from './harness.js';
import { estimateTokens } from '../../src/gemini/request.js';
import {
  adtsBytes,
  cbrMp3Bytes,
  flacBytes,
  movBytes,
  mp4Bytes,
  oggBytes,
  vbrMp3Bytes,
  wavBytes,
  webmBytes,
} from '../media/timed-media.js';

const MODEL = 'gemini-2.5-flash';

/** One user turn of a short prompt (3 tokens) and one inline media part. */
function inline(mimeType: string, bytes: Buffer) {
  return [
    {
      role: 'user',
      parts: [{ text: 'Describe it.' }, { inlineData: { mimeType, data: bytes.toString('base64') } }],
    },
  ];
}

// Google counts audio at 32 tokens a second and video at 263 (gemini-facts.md, contract §6.3); the
// emulator reads the length from the container's headers (a token per 4 bytes before).
describe('emulator: audio and video are counted by the second', () => {
  const sandbox = emulatorSandbox();

  it('counts audio at 32 tokens a second, its length read from WAV and MP3 headers', async () => {
    const ai = sdkFor(await sandbox.startEmulator());
    const count = async (mimeType: string, bytes: Buffer) =>
      ((await ai.models.countTokens({ model: MODEL, contents: inline(mimeType, bytes) })).totalTokens ?? 0) -
      3;
    expect(await count('audio/wav', wavBytes(10))).toBe(10 * 32);
    // Constant bit rate, after an ID3 tag: the audio bytes over the first frame's 128 kbit/s.
    expect(await count('audio/mp3', cbrMp3Bytes(5))).toBe(5 * 32);
    // Variable bit rate: the Xing header's frame count, 1,152 samples each at 44.1 kHz.
    expect(await count('audio/mpeg', vbrMp3Bytes(1000))).toBe(Math.ceil(((1000 * 1152) / 44100) * 32));
    // A header too damaged to read (an Ogg page without its identification packet): its size at an
    // assumed 128 kbit/s (16,000 bytes/s).
    const ogg = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(31_996)]);
    expect(await count('audio/ogg', ogg)).toBe(2 * 32);
  });

  // They were counted by their size at 128 kbit/s or 2 Mbit/s: a 90 s Opus voice note (~16 kbit/s)
  // counted as ~11 s, a WebM screen recording by its bytes, not its minutes.
  it('reads the length of Ogg (Vorbis, Opus), FLAC, raw AAC (ADTS), WebM and a MOV without ftyp', async () => {
    const ai = sdkFor(await sandbox.startEmulator());
    const count = async (mimeType: string, bytes: Buffer) =>
      ((await ai.models.countTokens({ model: MODEL, contents: inline(mimeType, bytes) })).totalTokens ?? 0) -
      3;
    // The last page's granule position over the identification header's rate (Opus: 48 kHz, less its pre-skip).
    expect(await count('audio/ogg', oggBytes('vorbis', 90))).toBe(90 * 32);
    expect(await count('audio/ogg', oggBytes('opus', 45))).toBe(45 * 32);
    expect(await count('audio/flac', flacBytes(20))).toBe(20 * 32);
    // ADTS has no length field: 1,000 frames of 1,024 samples at 44.1 kHz, counted one by one.
    expect(await count('audio/aac', adtsBytes(1000))).toBe(Math.ceil(((1000 * 1024) / 44100) * 32));
    // Segment Info's Duration (8-byte float) in TimestampScale units, the Segment's size unknown.
    expect(await count('video/webm', webmBytes(7))).toBe(7 * 263);
    expect(await count('audio/webm', webmBytes(7))).toBe(7 * 32);
    // QuickTime files need not open with ftyp: moov/mvhd is found after a `wide` atom.
    expect(await count('video/quicktime', movBytes(4))).toBe(4 * 263);
  });

  it('counts and bills video at 263 tokens a second from the MP4 mvhd box, inline or uploaded', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const clip = mp4Bytes(12);
    const counted = await ai.models.countTokens({ model: MODEL, contents: inline('video/mp4', clip) });
    expect(counted.totalTokens).toBe(3 + 12 * 263);

    const path = join(sandbox.tempDir('video'), 'clip.mp4');
    writeFileSync(path, clip);
    const file = await ai.files.upload({ file: path, config: { mimeType: 'video/mp4' } });
    const contents = [
      {
        role: 'user',
        parts: [{ text: 'Describe it.' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'video/mp4' } }],
      },
    ];
    expect((await ai.models.countTokens({ model: MODEL, contents })).totalTokens).toBe(3 + 12 * 263);
    const answer = await ai.models.generateContent({ model: MODEL, contents });
    expect(answer.usageMetadata?.promptTokenCount).toBe(3 + 12 * 263);
    expect(emulator.ledger.entries().map((entry) => entry.inputTokens)).toEqual([3 + 12 * 263]);
  });

  // Part.videoMetadata clips a video to [startOffset, endOffset] and samples it at fps frames a
  // second (default 1), Part.audioMetadata clips an audio (@google/genai 3.6's VideoMetadata and
  // AudioMetadata). Google counts only the clip: 263 tokens a second of video at 1 fps, a frame
  // being 258 of them. The emulator counted the whole file at 1 fps.
  it('counts, bills and estimates only the clip of a video, at its frame rate, or of an audio', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    const video = (videoMetadata: Record<string, unknown>) => [
      {
        role: 'user',
        parts: [
          { text: 'Describe it.' },
          { inlineData: { mimeType: 'video/mp4', data: mp4Bytes(60).toString('base64') }, videoMetadata },
        ],
      },
    ];
    const clipped = video({ startOffset: '10s', endOffset: '40s' });
    expect((await ai.models.countTokens({ model: MODEL, contents: clipped })).totalTokens).toBe(3 + 30 * 263);
    // An end past the video's length stops at its end; two frames a second add 258 tokens a second.
    const sampled = video({ startOffset: '50s', endOffset: '90s', fps: 2 });
    expect((await ai.models.countTokens({ model: MODEL, contents: sampled })).totalTokens).toBe(
      3 + 10 * (263 + 258),
    );
    const answer = await ai.models.generateContent({ model: MODEL, contents: clipped });
    expect(answer.usageMetadata?.promptTokenCount).toBe(3 + 30 * 263);
    expect(emulator.ledger.entries().map((entry) => entry.inputTokens)).toEqual([3 + 30 * 263]);
    // wavebatch's estimate counts the same clip the same way (one function in src/media).
    expect(estimateTokens({ contents: clipped })).toBe(3 + 30 * 263);
    expect(estimateTokens({ contents: sampled })).toBe(3 + 10 * (263 + 258));

    const audio = [
      {
        role: 'user',
        parts: [
          { text: 'Describe it.' },
          {
            inlineData: { mimeType: 'audio/wav', data: wavBytes(60).toString('base64') },
            audioMetadata: { startOffset: '15s', endOffset: '45s' },
          },
        ],
      },
    ];
    expect((await ai.models.countTokens({ model: MODEL, contents: audio })).totalTokens).toBe(3 + 30 * 32);
    expect(estimateTokens({ contents: audio })).toBe(3 + 30 * 32);
  });
});
