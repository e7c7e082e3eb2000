import type { MediaFileRow } from '../store/store.js';

/** How long the Files API keeps a file; assumed when the API did not say when it expires. */
export const FILE_LIFETIME_MS = 48 * 3600_000;

/**
 * Default safety margin: a file is only reused while it outlives the longest a batch job should
 * take (24 h target turnaround), so no job is left pointing at an expired file.
 */
export const DEFAULT_EXPIRY_MARGIN_MS = 24 * 3600_000;

/** What to do with a media file's cache entry. */
export type CacheDecision =
  | { action: 'upload'; reason: 'uncached' | 'expiring' }
  /** Reuse, once the remote copy is confirmed to still exist. */
  | { action: 'reuse'; expiresAt: number };

/** When a cached upload expires, in epoch ms. */
export function expiryOf(entry: MediaFileRow): number {
  const expires = entry.expiresAt === null ? Number.NaN : Date.parse(entry.expiresAt);
  return Number.isFinite(expires) ? expires : Date.parse(entry.uploadedAt) + FILE_LIFETIME_MS;
}

/** Pure cache policy: upload when nothing is cached or the copy expires within `marginMs` of `now`. */
export function decideCachedFile(entry: MediaFileRow | null, now: number, marginMs: number): CacheDecision {
  if (!entry) return { action: 'upload', reason: 'uncached' };
  const expiresAt = expiryOf(entry);
  if (!(expiresAt - now > marginMs)) return { action: 'upload', reason: 'expiring' };
  return { action: 'reuse', expiresAt };
}
