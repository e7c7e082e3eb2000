import { describe, expect, it } from 'vitest';
import { DEFAULT_EXPIRY_MARGIN_MS, decideCachedFile, FILE_LIFETIME_MS } from '../../src/media/index.js';
import type { MediaFileRow } from '../../src/store/store.js';

const HOUR = 3600_000;
const uploadedAt = Date.parse('2026-01-01T00:00:00Z');

function entry(expiresAt: string | null): MediaFileRow {
  return {
    sha256: 'ab'.repeat(32),
    mimeType: 'image/png',
    sizeBytes: 10,
    remoteName: 'files/abc',
    uri: 'https://example.test/v1beta/files/abc',
    expiresAt,
    uploadedAt: new Date(uploadedAt).toISOString(),
  };
}

describe('decideCachedFile', () => {
  const expires = new Date(uploadedAt + 48 * HOUR).toISOString();

  it('uploads what was never uploaded', () => {
    expect(decideCachedFile(null, uploadedAt, DEFAULT_EXPIRY_MARGIN_MS)).toEqual({
      action: 'upload',
      reason: 'uncached',
    });
  });

  it('reuses a copy that outlives the margin', () => {
    expect(decideCachedFile(entry(expires), uploadedAt + HOUR, DEFAULT_EXPIRY_MARGIN_MS)).toEqual({
      action: 'reuse',
      expiresAt: uploadedAt + 48 * HOUR,
    });
    // Still fresh one minute before the margin starts.
    expect(
      decideCachedFile(entry(expires), uploadedAt + 24 * HOUR - 60_000, DEFAULT_EXPIRY_MARGIN_MS).action,
    ).toBe('reuse');
  });

  it('re-uploads a copy that expires within the margin, and one already expired', () => {
    expect(decideCachedFile(entry(expires), uploadedAt + 24 * HOUR, DEFAULT_EXPIRY_MARGIN_MS)).toEqual({
      action: 'upload',
      reason: 'expiring',
    });
    expect(decideCachedFile(entry(expires), uploadedAt + 30 * HOUR, DEFAULT_EXPIRY_MARGIN_MS).action).toBe(
      'upload',
    );
    expect(decideCachedFile(entry(expires), uploadedAt + 49 * HOUR, DEFAULT_EXPIRY_MARGIN_MS).action).toBe(
      'upload',
    );
  });

  it('honours a smaller margin', () => {
    expect(decideCachedFile(entry(expires), uploadedAt + 40 * HOUR, HOUR).action).toBe('reuse');
    expect(decideCachedFile(entry(expires), uploadedAt + 47 * HOUR + 1, HOUR).action).toBe('upload');
  });

  it('assumes the 48 h lifetime from the upload time when the API gave no expiry', () => {
    expect(decideCachedFile(entry(null), uploadedAt + 23 * HOUR, DEFAULT_EXPIRY_MARGIN_MS)).toEqual({
      action: 'reuse',
      expiresAt: uploadedAt + FILE_LIFETIME_MS,
    });
    expect(
      decideCachedFile(entry('not a time'), uploadedAt + 25 * HOUR, DEFAULT_EXPIRY_MARGIN_MS).action,
    ).toBe('upload');
  });
});
