import { basename } from 'node:path';
import { systemClock } from '../clock.js';
import {
  GeminiApiError,
  payloadLimitOf,
  type FileReference,
  type GeminiClient,
  type RemoteFile,
} from '../gemini/index.js';
import type { MediaFileCache, MediaFileRow } from '../store/store.js';
import type { MediaInput } from '../workload/record.js';
import { DEFAULT_EXPIRY_MARGIN_MS, decideCachedFile, FILE_LIFETIME_MS } from './cache-decision.js';
import { contentFactsOf, estimatedTokensOf, type ContentFacts } from './content-facts.js';
import { openMediaFile, sameFile, type FileIdentity, type OpenMediaFile } from './media-file.js';
import { MediaInputError } from './media-input-error.js';
import { openedFileBlob } from './opened-file-blob.js';
import { MediaUploadError, waitUntilActive } from './processing-wait.js';

export interface MediaUploaderOptions {
  api: Pick<GeminiClient, 'uploadFile' | 'getFile'>;
  cache: MediaFileCache;
  /** Epoch ms; compared with the expiry times the API reports. */
  now: () => number;
  /** Re-upload when the remote copy expires within this; default 24 h (a batch job's turnaround). */
  expiryMarginMs?: number;
  /** How long a remote copy confirmed alive is trusted before asking the API again; default 10 min. */
  recheckMs?: number;
  /** Waits this long on the injected clock between checks of a file still PROCESSING; default real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Gives up on a file still PROCESSING after this long; default 5 min. */
  processingTimeoutMs?: number;
}

/** The Files API's documented limit on one file, as its docs word it. */
const MAX_FILE_BYTES_TEXT = '2 GB';
const DEFAULT_RECHECK_MS = 10 * 60_000;
const DEFAULT_PROCESSING_TIMEOUT_MS = 5 * 60_000;

/**
 * Uploads each media file once, keyed by the sha256 of its bytes, and hands back the same URI for as
 * long as the remote copy lives (so rebuilding a request after a crash gives the same request).
 * Re-uploads when the copy is gone (deleted, expired) or expires within the safety margin.
 */
export class MediaUploader {
  private readonly facts = new Map<string, { file: FileIdentity; facts: ContentFacts }>();
  private readonly confirmed = new Map<string, { remoteName: string; uri: string; at: number }>();
  private readonly pending = new Map<string, Promise<FileReference>>();
  private readonly marginMs: number;
  private readonly recheckMs: number;

  constructor(private readonly options: MediaUploaderOptions) {
    this.marginMs = options.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS;
    this.recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
  }

  /**
   * A live uploaded copy of the file: the cached one while it lasts, otherwise a fresh upload. `file`
   * is the media file as the caller opened and checked it (opened here when not given): it is hashed
   * and uploaded from that descriptor, so what was checked is what is sent.
   */
  async fileFor(media: MediaInput, file?: OpenMediaFile): Promise<FileReference> {
    if (file) return this.fileOf(media, file);
    const opened = await openMediaFile(media.path, media.confinedTo);
    try {
      return await this.fileOf(media, opened);
    } finally {
      await opened.handle.close();
    }
  }

  private async fileOf(media: MediaInput, file: OpenMediaFile): Promise<FileReference> {
    const facts = await this.contentFacts(media, file);
    const key = `${facts.sha256} ${media.mimeType}`;
    // Two records sharing a file in one round must not upload it twice.
    const running = this.pending.get(key);
    if (running) return running;
    const work = this.resolve(media, file, facts, key).finally(() => this.pending.delete(key));
    this.pending.set(key, work);
    return work;
  }

  /**
   * The API answered that the copy at `fileUri` does not exist (deleted, expired early): it is no
   * longer trusted, so the next `fileFor` of its media asks the API and uploads it again. Without
   * this, a retry within `recheckMs` sent the same missing URI again.
   */
  forget(fileUri: string): void {
    for (const [key, seen] of this.confirmed) if (seen.uri === fileUri) this.confirmed.delete(key);
  }

  private async resolve(
    media: MediaInput,
    file: OpenMediaFile,
    facts: ContentFacts,
    key: string,
  ): Promise<FileReference> {
    const { cache, now } = this.options;
    const cached = await cache.getMediaFile(facts.sha256, media.mimeType);
    const decision = decideCachedFile(cached, now(), this.marginMs);
    if (cached && decision.action === 'reuse' && (await this.stillThere(cached, key))) {
      return reference(cached, facts);
    }
    return reference(await this.upload(media, file, facts, key), facts);
  }

  /** Asks the API whether the copy still exists, at most once per `recheckMs`. */
  private async stillThere(cached: MediaFileRow, key: string): Promise<boolean> {
    const now = this.options.now();
    const seen = this.confirmed.get(key);
    if (seen && seen.remoteName === cached.remoteName && now - seen.at < this.recheckMs) return true;
    const remote = await this.options.api.getFile(cached.remoteName);
    if (!remote || remote.state === 'FAILED') {
      this.confirmed.delete(key);
      return false;
    }
    this.confirmed.set(key, { remoteName: cached.remoteName, uri: cached.uri, at: now });
    return true;
  }

  private async upload(
    media: MediaInput,
    file: OpenMediaFile,
    facts: ContentFacts,
    key: string,
  ): Promise<MediaFileRow> {
    const { api, cache, now } = this.options;
    const displayName = `wb-media-${facts.sha256.slice(0, 16)}-${basename(media.path)}`.slice(0, 512);
    const uploaded = await api
      .uploadFile(openedFileBlob(file, media.mimeType), media.mimeType, displayName)
      .catch((error: unknown) => {
        throw refusedAsTooLarge(error, media.path, file.size) ?? error;
      });
    // Written to in place while it was hashed or sent: the copy may not be the bytes of that hash.
    if (!sameFile(file, await file.handle.stat())) throw changedWhileRead(media.path);
    uriOf(uploaded, media.path);
    // Taken before the wait: the file's lifetime counts from its upload, not from when it became ACTIVE.
    const uploadedAt = now();
    // Only an ACTIVE file may be referenced (and cached): a video stays PROCESSING for a while.
    const remote = await waitUntilActive(uploaded, media.path, {
      api,
      now,
      sleep: this.options.sleep ?? ((ms) => systemClock.sleep(ms)),
      timeoutMs: this.options.processingTimeoutMs ?? DEFAULT_PROCESSING_TIMEOUT_MS,
    });
    const row: MediaFileRow = {
      sha256: facts.sha256,
      mimeType: media.mimeType,
      sizeBytes: remote.sizeBytes ?? 0,
      remoteName: remote.name,
      uri: uriOf(remote, media.path),
      expiresAt: new Date(uploadedAt + lifetimeOf(remote)).toISOString(),
      uploadedAt: new Date(uploadedAt).toISOString(),
    };
    await cache.saveMediaFile(row);
    this.confirmed.set(key, { remoteName: row.remoteName, uri: row.uri, at: uploadedAt });
    return row;
  }

  /** Hash (and PDF pages) of the file, recomputed only when it is another file or has changed. */
  private async contentFacts(media: MediaInput, file: OpenMediaFile): Promise<ContentFacts> {
    const known = this.facts.get(media.path);
    if (known && sameFile(known.file, file)) return known.facts;
    const facts = await contentFactsOf(file, media.mimeType);
    const { dev, ino, size, mtimeMs } = file;
    this.facts.set(media.path, { file: { dev, ino, size, mtimeMs }, facts });
    return facts;
  }
}

/**
 * How long the API will keep the file. The expiry is then kept on the local clock (upload time plus
 * this), so a local clock that is off from Google's cannot make a fresh copy look expired.
 */
function lifetimeOf(remote: RemoteFile): number {
  const lifetime = Date.parse(remote.expiresAt ?? '') - Date.parse(remote.createdAt ?? '');
  return Number.isFinite(lifetime) && lifetime > 0 ? lifetime : FILE_LIFETIME_MS;
}

function uriOf(remote: RemoteFile, path: string): string {
  if (!remote.name || !remote.uri) {
    throw new MediaUploadError(
      path,
      `Uploading ${path} returned no file URI; retry the run, and report it if it persists.`,
    );
  }
  return remote.uri;
}

function reference(row: MediaFileRow, facts: ContentFacts): FileReference {
  const estimated = estimatedTokensOf(facts);
  return {
    fileUri: row.uri,
    mimeType: row.mimeType,
    ...(estimated !== undefined ? { estimatedTokens: estimated } : {}),
  };
}

/**
 * The API refused the upload as too large for one call (413, or its 400 "Request payload size exceeds
 * the limit"): the same file is refused at every try, so it is the record's failure, not a passing one
 * (read as passing, the record was skipped round after round and the run never ended).
 */
function refusedAsTooLarge(error: unknown, path: string, size: number): MediaInputError | undefined {
  if (!GeminiApiError.isInstance(error) || error.code !== 'PAYLOAD_TOO_LARGE') return undefined;
  const limit = payloadLimitOf(error);
  return new MediaInputError(
    'INPUT_MEDIA_TOO_LARGE',
    path,
    `Media file ${path} is ${size} bytes; the API refused its upload as too large (HTTP ${error.status ?? 413}, ${
      limit === undefined
        ? `the answer named no limit; Google's is ${MAX_FILE_BYTES_TEXT} per file`
        : `limit ${limit} bytes`
    }). Shrink or split it.`,
  );
}

function changedWhileRead(path: string): MediaInputError {
  return new MediaInputError(
    'INPUT_MEDIA_CHANGED',
    path,
    `Media file ${path} changed while it was being uploaded, so the copy may hold neither version: ` +
      'it is not used. Leave the file alone while a run reads it, then requeue the record.',
  );
}
