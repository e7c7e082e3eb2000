import { hash } from 'node:crypto';
import { sha256Hex } from '../../sha256.js';

/** Length of the prompt digest embedded in every synthetic string. */
export const DIGEST_LENGTH = 8;

/**
 * The short digest of a prompt text (first 8 hex chars of its SHA-256). Synthetic outputs embed
 * it so a test can prove which context a request saw, e.g. that page N's prompt held page N-1's output.
 */
export function promptDigest(promptText: string): string {
  return sha256Hex(promptText).slice(0, DIGEST_LENGTH);
}

/** A response id shaped like Google's (22 url-safe base64 chars), derived from the given parts. */
export function responseIdOf(...parts: string[]): string {
  return hash('sha256', parts.join('\u0000'), 'base64url').slice(0, 22);
}
