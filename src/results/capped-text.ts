/** Cuts text to at most `max` characters, ending with an ellipsis when it did: for one-line messages. */
export function shortenText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Cuts text to at most `maxBytes` UTF-8 bytes (never mid-character), saying so when it did. */
export function capText(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text) <= maxBytes) return text;
  const bytes = Buffer.from(text.slice(0, maxBytes), 'utf8').subarray(0, maxBytes);
  // Drop a trailing partial character: decoding would turn it into U+FFFD.
  let kept = bytes.toString('utf8');
  while (kept.endsWith('\uFFFD')) kept = kept.slice(0, -1);
  return `${kept}… [truncated: ${Buffer.byteLength(text)} bytes in all, first ${Buffer.byteLength(kept)} kept]`;
}
