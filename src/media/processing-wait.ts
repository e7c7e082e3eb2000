import type { GeminiClient, RemoteFile } from '../gemini/index.js';
import { WavebatchError } from '../errors.js';

/** Why a media upload could not be used; stable codes for callers and logs. */
export type MediaUploadCode =
  'MEDIA_UPLOAD_INCOMPLETE' | 'MEDIA_PROCESSING_FAILED' | 'MEDIA_PROCESSING_TIMEOUT';

/** Raised when the Files API accepted an upload but gave back no usable file. */
export class MediaUploadError extends WavebatchError {
  constructor(
    readonly path: string,
    message: string,
    readonly code: MediaUploadCode = 'MEDIA_UPLOAD_INCOMPLETE',
  ) {
    super(message);
  }
}

/** How to wait for an uploaded file to leave PROCESSING; times are on the injected clock. */
export interface ProcessingWait {
  api: Pick<GeminiClient, 'getFile'>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Give up once the file has been PROCESSING this long. */
  timeoutMs: number;
}

/** First pause between state checks; doubled after each check up to MAX_POLL_MS. */
const FIRST_POLL_MS = 1000;
/** Google processes a video in seconds to minutes: checking more often than this gains nothing. */
const MAX_POLL_MS = 15_000;

/**
 * Polls `getFile` with backoff until the upload is usable. A file still PROCESSING (a video, as
 * Google transcodes it) must not be referenced yet: a request naming it would fail.
 */
export async function waitUntilActive(
  uploaded: RemoteFile,
  path: string,
  wait: ProcessingWait,
): Promise<RemoteFile> {
  const deadline = wait.now() + wait.timeoutMs;
  let file = uploaded;
  let pause = FIRST_POLL_MS;
  while (file.state === 'PROCESSING') {
    const left = deadline - wait.now();
    if (left <= 0) {
      throw new MediaUploadError(
        path,
        `The Files API is still processing ${path} (uploaded as ${file.name}) after ${Math.round(wait.timeoutMs / 1000)} s; retry the run later.`,
        'MEDIA_PROCESSING_TIMEOUT',
      );
    }
    await wait.sleep(Math.min(pause, left));
    pause = Math.min(pause * 2, MAX_POLL_MS);
    const next = await wait.api.getFile(file.name);
    if (!next) {
      throw new MediaUploadError(
        path,
        `The uploaded copy of ${path} (${file.name}) disappeared while it was being processed; retry the run.`,
      );
    }
    file = next;
  }
  if (file.state === 'FAILED') {
    throw new MediaUploadError(
      path,
      `The Files API could not process ${path} (uploaded as ${file.name}, state FAILED); check that the file is a valid ${file.mimeType ?? 'media'} file.`,
      'MEDIA_PROCESSING_FAILED',
    );
  }
  return file;
}
