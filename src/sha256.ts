import { hash } from 'node:crypto';

/**
 * sha256 hex of a string (UTF-8). Node's one-shot `crypto.hash` costs about half of
 * `createHash().update().digest()` for the short texts hashed per record (rendered prompts,
 * contexts, record contents: 1.0–1.4 µs against 1.9–2.2 µs at 400 characters), and a request is
 * hashed three times as it is built.
 */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
