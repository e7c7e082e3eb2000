import type { FailureRow, JobRow, JobState, RecordStatus, StoredRecord } from '../store.js';

/** Column shapes as SQL returns them; mapped once here so the rest of the code sees camelCase. */
export interface RecordDbRow {
  id: string;
  chain_id: string;
  position: number;
  predecessor_id: string | null;
  vars_json: string;
  media_json: string;
  status: RecordStatus;
  attempts: number;
  job_id: string | null;
  remaining: number;
}

export interface JobDbRow {
  id: string;
  remote_name: string | null;
  model: string;
  state: JobState;
  kind: 'inline' | 'file';
  input_file: string | null;
  request_count: number;
  estimated_tokens: number;
  input_tokens: number;
  output_tokens: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface FailureDbRow {
  id: number;
  record_id: string;
  job_id: string | null;
  attempt: number;
  cause: string;
  message: string;
  raw: string | null;
  prompt_name: string | null;
  prompt_version: string | null;
  prompt_hash: string | null;
  final: number;
  at: string;
}

export function toStoredRecord(row: RecordDbRow): StoredRecord {
  return {
    id: row.id,
    chainId: row.chain_id,
    position: row.position,
    vars: JSON.parse(row.vars_json) as StoredRecord['vars'],
    media: JSON.parse(row.media_json) as StoredRecord['media'],
    predecessorId: row.predecessor_id,
    status: row.status,
    attempts: row.attempts,
    jobId: row.job_id,
    remaining: row.remaining,
  };
}

export function toJobRow(row: JobDbRow): JobRow {
  return {
    id: row.id,
    remoteName: row.remote_name,
    model: row.model,
    state: row.state,
    kind: row.kind,
    inputFile: row.input_file,
    requestCount: row.request_count,
    estimatedTokens: row.estimated_tokens,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toFailureRow(row: FailureDbRow): FailureRow {
  return {
    id: row.id,
    recordId: row.record_id,
    jobId: row.job_id,
    attempt: row.attempt,
    cause: row.cause,
    message: row.message,
    raw: row.raw,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    promptHash: row.prompt_hash,
    final: row.final === 1,
    at: row.at,
  };
}
