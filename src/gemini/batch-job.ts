import type { BatchJob } from '@google/genai';
import { capText } from '../results/capped-text.js';
import { MAX_SERVER_MESSAGE_BYTES } from '../errors.js';

/** Lifecycle of a remote batch job, in our own lowercase words. */
export type BatchJobState =
  'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired' | 'unknown';

/** One inline result; `key` is the request's metadata.key echoed back by the server. */
export interface InlinedResult {
  key?: string;
  response?: unknown;
  /** google.rpc.Status; `details` kept whole so a dead letter carries the full error, as file results do. */
  error?: { code?: number; message?: string; status?: string; details?: unknown[] };
}

/** What wavebatch needs to know about a remote batch job. */
export interface BatchJobInfo {
  name: string;
  displayName?: string;
  model?: string;
  state: BatchJobState;
  createTime?: string;
  updateTime?: string;
  endTime?: string;
  /**
   * The uploaded file the job reads its requests from (`files/...`), for a job created from a file;
   * known from `getBatch` only (the SDK's list drops it).
   */
  inputFileName?: string;
  /** Set when the results were written to a file (`files/...`); download it with downloadFile. */
  resultsFileName?: string;
  /** Set when the job was created inline; matched to requests by `key`, never by position. */
  inlinedResponses?: InlinedResult[];
  error?: { code?: number; message?: string };
  stats?: {
    requestCount?: number;
    successfulRequestCount?: number;
    failedRequestCount?: number;
    pendingRequestCount?: number;
  };
}

const STATES: Record<string, BatchJobState> = {
  PENDING: 'pending',
  QUEUED: 'pending',
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  CANCELLING: 'running',
  EXPIRED: 'expired',
};

/** Maps both the SDK's JOB_STATE_* and the wire's BATCH_STATE_* to our states. */
export function batchStateOf(raw: unknown): BatchJobState {
  if (typeof raw !== 'string') return 'unknown';
  const bare = raw.replace(/^(JOB|BATCH)_STATE_/, '');
  return STATES[bare] ?? 'unknown';
}

/** From the SDK's parsed BatchJob (create, list). The SDK drops batchStats and error for the Gemini API. */
export function fromSdkBatchJob(job: BatchJob): BatchJobInfo {
  const info: BatchJobInfo = { name: job.name ?? '', state: batchStateOf(job.state) };
  if (job.displayName) info.displayName = job.displayName;
  if (job.model) info.model = job.model;
  if (job.createTime) info.createTime = job.createTime;
  if (job.updateTime) info.updateTime = job.updateTime;
  if (job.endTime) info.endTime = job.endTime;
  if (job.dest?.fileName) info.resultsFileName = job.dest.fileName;
  if (job.dest?.inlinedResponses) {
    info.inlinedResponses = job.dest.inlinedResponses.map((item) =>
      inlinedResult(item.metadata, item.response, item.error),
    );
  }
  if (job.error) info.error = errorOf(job.error);
  return info;
}

/**
 * From the raw wire operation (`GET /v1beta/batches/{id}`), which keeps what the SDK's converter
 * drops: `metadata.batchStats` and the operation `error`. Wire shape: `{name, metadata: {displayName,
 * model, state: BATCH_STATE_*, createTime, updateTime, endTime, batchStats, output: {responsesFile |
 * inlinedResponses: {inlinedResponses: [...]}}}, done, error?, response?}`.
 */
export function fromWireBatch(raw: Record<string, unknown>): BatchJobInfo {
  const metadata = objectOr(raw.metadata);
  const info: BatchJobInfo = { name: stringOr(raw.name) ?? '', state: batchStateOf(metadata.state) };
  const text = (key: 'displayName' | 'model' | 'createTime' | 'updateTime' | 'endTime') => {
    const value = stringOr(metadata[key]);
    if (value !== undefined) info[key] = value;
  };
  text('displayName');
  text('model');
  text('createTime');
  text('updateTime');
  text('endTime');
  const inputConfig = objectOr(metadata.inputConfig);
  const inputFile = stringOr(inputConfig.fileName) ?? stringOr(inputConfig.file_name);
  if (inputFile) info.inputFileName = inputFile;
  // The finished output is mirrored in metadata.output and in response; either may be present.
  const output = { ...objectOr(objectOr(raw.response)), ...objectOr(metadata.output) };
  const responsesFile = stringOr(output.responsesFile);
  if (responsesFile) info.resultsFileName = responsesFile;
  const inlined = objectOr(output.inlinedResponses).inlinedResponses;
  if (Array.isArray(inlined)) {
    info.inlinedResponses = inlined.map((item) => {
      const entry = objectOr(item);
      return inlinedResult(entry.metadata, entry.response, entry.error);
    });
  }
  if (raw.error !== undefined) info.error = errorOf(raw.error);
  const stats = objectOr(metadata.batchStats);
  const count = (key: string) => {
    const value = Number(stats[key]);
    return Number.isFinite(value) && stats[key] !== undefined ? value : undefined;
  };
  const batchStats: NonNullable<BatchJobInfo['stats']> = {};
  for (const key of [
    'requestCount',
    'successfulRequestCount',
    'failedRequestCount',
    'pendingRequestCount',
  ] as const) {
    const value = count(key);
    if (value !== undefined) batchStats[key] = value;
  }
  if (Object.keys(batchStats).length > 0) info.stats = batchStats;
  return info;
}

function inlinedResult(metadata: unknown, response: unknown, error: unknown): InlinedResult {
  const result: InlinedResult = {};
  const key = stringOr(objectOr(metadata).key);
  if (key !== undefined) result.key = key;
  if (response !== undefined && response !== null) result.response = response;
  if (error !== undefined && error !== null) {
    const record = objectOr(error);
    result.error = {
      ...(typeof record.code === 'number' ? { code: record.code } : {}),
      ...(typeof record.message === 'string' ? { message: record.message } : {}),
      ...(typeof record.status === 'string' ? { status: record.status } : {}),
      ...(Array.isArray(record.details) ? { details: record.details as unknown[] } : {}),
    };
  }
  return result;
}

/** A job's own error; its message cut as an API error's is (filed once per record of the job). */
function errorOf(error: unknown): { code?: number; message?: string } {
  const record = objectOr(error);
  return {
    ...(typeof record.code === 'number' ? { code: record.code } : {}),
    ...(typeof record.message === 'string'
      ? { message: capText(record.message, MAX_SERVER_MESSAGE_BYTES) }
      : {}),
  };
}

function objectOr(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
