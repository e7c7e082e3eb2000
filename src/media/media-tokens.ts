/*
 * How Gemini counts a media part's tokens (contract §6.3, DOCS tokens and vision pages), in one place
 * for the emulator (which bills by it) and the local estimate (which plans by it), so the two agree.
 */
import { imageSize } from './image-size.js';

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
