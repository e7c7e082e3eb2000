/*
 * How Gemini counts a media part's tokens (contract §6.3, DOCS tokens and vision pages), in one place
 * for the emulator (which bills by it) and the local estimate (which plans by it), so the two agree.
 */
import { imageSize } from './image-size.js';
import { readBuffer } from './byte-source.js';
import { mediaDurationSeconds } from './media-duration.js';

/** Tokens of a small image (both sides at most 384 px), of one tile of a larger one, and of a PDF page. */
export const TOKENS_PER_IMAGE = 258;

/** Bytes of an image's head that hold its size: a JPEG's frame header can follow 64 KB segments of EXIF. */
export const IMAGE_HEAD_BYTES = 1024 * 1024;

/**
 * An image's tokens from its width and height: 258 when both sides are at most 384 px; a larger one
 * is cut into square tiles of min(width, height) / 1.5 px (clamped to 256–768), 258 tokens each.
 */
export function imageTokensOfSize(size: { width: number; height: number }): number {
  if (size.width <= 384 && size.height <= 384) return TOKENS_PER_IMAGE;
  const tile = Math.min(768, Math.max(256, Math.floor(Math.min(size.width, size.height) / 1.5)));
  return TOKENS_PER_IMAGE * Math.ceil(size.width / tile) * Math.ceil(size.height / tile);
}

/**
 * An image's tokens from its bytes (its first IMAGE_HEAD_BYTES suffice), its size read from a PNG,
 * JPEG, GIF or WebP header. An image whose size cannot be read (no bytes, another format) counts as
 * one tile.
 */
export function imageTokens(bytes: Uint8Array | undefined): number {
  const size = bytes ? imageSize(bytes) : undefined;
  return size ? imageTokensOfSize(size) : TOKENS_PER_IMAGE;
}

/**
 * The pages of a document part to count, as Part.documentMetadata names them ("1-indexed inclusive
 * start page" and "end page", @google/genai 3.6's DocumentMetadata).
 */
export interface PageRange {
  startPage?: unknown;
  endPage?: unknown;
}

/**
 * Tokens of a PDF of `pages` pages, 258 a page, over only the pages `range` names (a range past the
 * last page stops at it).
 */
export function documentTokens(pages: number, range?: PageRange): number {
  const first = Number.isInteger(range?.startPage) ? Math.max(1, range?.startPage as number) : 1;
  const last = Number.isInteger(range?.endPage) ? Math.min(pages, range?.endPage as number) : pages;
  return TOKENS_PER_IMAGE * Math.max(0, last - first + 1);
}

/** Gemini's rates for audio and video (DOCS tokens page; contract §6.3): tokens per second. */
export const AUDIO_TOKENS_PER_SECOND = 32;
export const VIDEO_TOKENS_PER_SECOND = 263;

/**
 * Bytes per second assumed where a file's duration cannot be read from its headers (another
 * container, a damaged header): 128 kbit/s for audio (a common MP3/AAC rate), 2 Mbit/s for video
 * (a typical 720p H.264 stream). Rough, but far closer than a token per 4 bytes, which counted a
 * one-minute 1 MB MP3 as 262,144 tokens where Google counts 1,920.
 */
export const ASSUMED_AUDIO_BYTES_PER_SECOND = 16_000;
export const ASSUMED_VIDEO_BYTES_PER_SECOND = 250_000;

/**
 * The clip of an audio or video part: Part.videoMetadata ("the start and end offsets for clipping
 * and the frame rate"; fps defaults to 1.0 and lies in (0, 24]) or Part.audioMetadata (start and
 * end offsets "relative to the start of the audio stream"), as the REST reference and
 * @google/genai 3.6's VideoMetadata and AudioMetadata define them. Offsets are
 * google.protobuf.Duration strings such as "40s" or "1.5s".
 */
export interface MediaClip {
  startOffset?: unknown;
  endOffset?: unknown;
  fps?: unknown;
}

/** Tokens of one video frame at the default media resolution (DOCS vision and video pages). */
export const TOKENS_PER_VIDEO_FRAME = 258;

/**
 * Tokens of an audio or video file held in memory: its seconds read from its container's headers by
 * media-duration.ts (timedMediaTokensOfLength says the rest).
 */
export function timedMediaTokens(kind: 'audio' | 'video', bytes: Uint8Array, clip?: MediaClip): number {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return timedMediaTokensOfLength(kind, readBuffer(data, mediaDurationSeconds), data.length, clip);
}

/**
 * Tokens of an audio or video file of `size` bytes and `seconds` long (undefined: its headers did
 * not say, so its size over the assumed byte rate), times Gemini's rate per second, rounded up. A
 * `clip` counts only the seconds between its offsets; a video's fps changes the frames sampled a
 * second: Google's 263 tokens a second are one frame of 258 (the default fps is 1) and 5 more a
 * second, so at `fps` a second of video counts 258 × fps + 5.
 */
export function timedMediaTokensOfLength(
  kind: 'audio' | 'video',
  seconds: number | undefined,
  size: number,
  clip?: MediaClip,
): number {
  const clipped = clippedSeconds(seconds ?? assumedSeconds(kind, size), clip);
  if (kind === 'audio') return Math.ceil(clipped * AUDIO_TOKENS_PER_SECOND);
  const fps = typeof clip?.fps === 'number' && clip.fps > 0 && clip.fps <= 24 ? clip.fps : 1;
  const perSecond = VIDEO_TOKENS_PER_SECOND - TOKENS_PER_VIDEO_FRAME + TOKENS_PER_VIDEO_FRAME * fps;
  return Math.ceil(clipped * perSecond);
}

/** The seconds of a `seconds`-long file between the clip's offsets (an end past the file stops at its end). */
function clippedSeconds(seconds: number, clip: MediaClip | undefined): number {
  const start = Math.min(seconds, durationSeconds(clip?.startOffset) ?? 0);
  const end = Math.min(seconds, durationSeconds(clip?.endOffset) ?? seconds);
  return Math.max(0, end - start);
}

/** Seconds of a google.protobuf.Duration in JSON ("40s", "1.5s"), else undefined. */
function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d{1,9})?)s$/.exec(value.trim());
  return match ? Number(match[1]) : undefined;
}

function assumedSeconds(kind: 'audio' | 'video', size: number): number {
  return size / (kind === 'audio' ? ASSUMED_AUDIO_BYTES_PER_SECOND : ASSUMED_VIDEO_BYTES_PER_SECOND);
}

/** Tokens of an audio or video file of `size` bytes whose length is not read: at the assumed byte rate. */
export function timedMediaTokensOfSize(kind: 'audio' | 'video', size: number): number {
  return kind === 'audio'
    ? Math.ceil((size / ASSUMED_AUDIO_BYTES_PER_SECOND) * AUDIO_TOKENS_PER_SECOND)
    : Math.ceil((size / ASSUMED_VIDEO_BYTES_PER_SECOND) * VIDEO_TOKENS_PER_SECOND);
}

/** 'audio' or 'video' for a MIME type Gemini counts by the second, else undefined. */
export function timedMediaKind(mimeType: string): 'audio' | 'video' | undefined {
  if (mimeType.startsWith('audio/')) return 'audio';
  if (mimeType.startsWith('video/')) return 'video';
  return undefined;
}
