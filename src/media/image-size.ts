/**
 * Width and height of a PNG, JPEG, GIF or WebP from its header, or undefined for anything else (or
 * a header too short or damaged to read): an image's tokens are counted by its size (media-tokens.ts),
 * by the emulator as Google bills them and by the local estimate.
 */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    // PNG: the IHDR chunk comes first, its width and height big-endian.
    if (
      data.length >= 24 &&
      data.readUInt32BE(0) === 0x89504e47 &&
      data.toString('latin1', 12, 16) === 'IHDR'
    )
      return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
    // GIF: the logical screen's size, little-endian.
    if (data.length >= 10 && data.toString('latin1', 0, 3) === 'GIF')
      return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
    if (
      data.length >= 30 &&
      data.toString('latin1', 0, 4) === 'RIFF' &&
      data.toString('latin1', 8, 12) === 'WEBP'
    )
      return webpSize(data);
    if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) return jpegSize(data);
  } catch {
    return undefined;
  }
  return undefined;
}

/** A JPEG's size from its first start-of-frame segment (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(data: Buffer): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 9 < data.length) {
    if (data[at] !== 0xff) return undefined;
    const marker = data[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = data.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: data.readUInt16BE(at + 5), width: data.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return undefined;
}

/** A WebP's size from its VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk. */
function webpSize(data: Buffer): { width: number; height: number } | undefined {
  const chunk = data.toString('latin1', 12, 16);
  if (chunk === 'VP8 ')
    return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = data.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: data.readUIntLE(24, 3) + 1, height: data.readUIntLE(27, 3) + 1 };
  return undefined;
}
