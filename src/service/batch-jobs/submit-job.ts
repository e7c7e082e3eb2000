import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GeminiApiError, type BatchJobInfo, type GeminiClient } from '../../gemini/index.js';
import { systemClock, type RunnerClock } from '../../clock.js';
import { createMayHaveHappened, createOrAdopt } from '../../lanes/batch/create-or-adopt.js';
import { uploadJobInput } from '../../lanes/batch/job-input.js';
import { QUICK_RETRY } from '../../retry.js';
import { JobOutcomeUnknownError, OneoffInputError } from './errors.js';
import {
  inlineObstacle,
  keyedRequestList,
  readSubmitFile,
  toInputLine,
  toSdkInlinedRequest,
  type KeyedRequest,
} from './requests.js';

/** Below this many bytes of JSONL a job is sent inline: one call instead of an upload. */
export const AUTO_INLINE_MAX_BYTES = 1024 * 1024;
/** The API's limit on an inline batch create request. */
export const INLINE_MAX_BYTES = 20 * 1024 * 1024;

/** A GenerateContent request in the REST shape (`{contents, generationConfig?, systemInstruction?, …}`), camelCase. */
export type SubmitRequestBody = { contents: unknown[] } & Record<string, unknown>;

/** One request of a one-off job: with the key its result is found by, or bare (keyed `request-<n>`). */
export type SubmitRequest = { key?: string; request: SubmitRequestBody } | SubmitRequestBody;

/** What `submitJob` sends. */
export interface SubmitJobOptions {
  /** The model, e.g. `gemini-2.5-flash`. */
  model: string;
  /**
   * A `.jsonl` file (one request a line) or a `.json` file (an array, or `{"requests": [...]}`), as
   * `wavebatch submit` reads it; or the requests themselves; or what `readJobRequests` read of either.
   */
  requests: string | readonly SubmitRequest[] | JobRequests;
  /** Default `wavebatch-submit-<file name>`, or `wavebatch-submit` for requests given in code. */
  displayName?: string;
  /**
   * `inline`: in the create call (up to 20 MB); `upload`: as a file first; `auto` (default): inline
   * up to 1 MB of JSONL, unless a generationConfig field cannot be sent inline by the SDK.
   */
  transport?: 'auto' | 'inline' | 'upload';
  /** Paces the retries of an uploaded job's create whose answer was lost; default the system clock. */
  clock?: RunnerClock;
}

/**
 * A job's requests read and checked, nothing sent yet: `readJobRequests` makes it, so that a caller
 * (the `submit` command) reports a malformed file before it needs a client (an API key).
 */
export class JobRequests {
  constructor(
    readonly items: readonly KeyedRequest[],
    /** The file they were read from; undefined for requests given in code. */
    readonly file: string | undefined,
  ) {}
}

/**
 * Submits one batch job of the given requests (what `wavebatch submit` does) and returns it as
 * created; nothing is sent when a request is malformed (OneoffInputError, naming where it is).
 * Follow it with `client.getBatch(job.name)`, `client.cancelBatch(job.name)`.
 */
export async function submitJob(client: GeminiClient, options: SubmitJobOptions): Promise<BatchJobInfo> {
  const read =
    options.requests instanceof JobRequests ? options.requests : await readJobRequests(options.requests);
  return submitRead(client, read, options);
}

/** The requests of a job, read from their file or checked as given, before any client is made. */
export async function readJobRequests(requests: string | readonly SubmitRequest[]): Promise<JobRequests> {
  return typeof requests === 'string'
    ? new JobRequests(await readSubmitFile(requests), requests)
    : new JobRequests(keyedRequestList(requestArray(requests)), undefined);
}

/** Sends requests already read as one batch job: inline or uploaded first. */
async function submitRead(
  client: GeminiClient,
  read: JobRequests,
  options: SubmitJobOptions,
): Promise<BatchJobInfo> {
  const { items, file } = read;
  const transport = options.transport ?? 'auto';
  const lines = items.map(toInputLine);
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  const obstacle = inlineObstacle(items);
  if (transport === 'inline' && obstacle)
    throw new OneoffInputError(
      `${obstacle}; send the requests by upload (no --inline; transport 'upload' or 'auto') to keep them as they are.`,
    );
  const inline =
    transport === 'inline' || (transport === 'auto' && !obstacle && bytes <= AUTO_INLINE_MAX_BYTES);
  const what = file ?? 'The requests';
  if (inline && bytes > INLINE_MAX_BYTES) {
    throw new OneoffInputError(
      `${what} ${file !== undefined ? 'is' : 'are'} ${bytes} bytes, above the ${INLINE_MAX_BYTES}-byte inline limit; ` +
        `send ${file !== undefined ? 'it' : 'them'} by upload (no --inline; transport 'upload' or 'auto').`,
    );
  }
  const displayName =
    options.displayName ??
    (file !== undefined ? `wavebatch-submit-${basename(file).replace(/\.[^.]*$/, '')}` : 'wavebatch-submit');
  if (inline) {
    try {
      return await client.createBatch({
        model: options.model,
        displayName,
        source: { requests: items.map(toSdkInlinedRequest) },
      });
    } catch (error) {
      // Inline requests leave nothing to tell this job from another of the same display name (the
      // user's text), so it is not looked for: the user is told it may exist.
      if (createMayHaveHappened(error)) throw new JobOutcomeUnknownError(displayName, error);
      throw error;
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'wavebatch-submit-'));
  try {
    // Not named after the display name: that is the user's text and may hold a '/'.
    const uploaded = await uploadJobInput(client, join(dir, 'requests.jsonl'), lines, displayName);
    const inputFile = uploaded.file.name;
    // The upload is this submit's own: a job reading it is the one this create made, whatever its
    // display name shares with others. Found after a lost answer, it is returned, not made again.
    const attempt = await createOrAdopt(
      client,
      { model: options.model, displayName, source: { fileName: inputFile } },
      { displayName, inputFile },
      { policy: QUICK_RETRY, clock: options.clock ?? systemClock },
    );
    if ('remote' in attempt) return attempt.remote;
    if (attempt.ambiguous) throw new JobOutcomeUnknownError(displayName, attempt.error, inputFile);
    // A refused create made no job, and no job will use the upload: it would take the project's
    // Files storage (20 GB) for 48 h.
    if (GeminiApiError.isInstance(attempt.error) && !attempt.error.retryable)
      await client.deleteFile(inputFile).catch(() => undefined);
    throw attempt.error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A JavaScript caller is not stopped by the type: anything but an array or a path is refused by name. */
function requestArray(requests: unknown): readonly unknown[] {
  if (!Array.isArray(requests))
    throw new OneoffInputError('requests must be a file path or an array of requests.');
  return requests;
}
