import { isLane } from '../../lanes/lane.js';
import type { OutputLocation } from '../../outputs/index.js';
import { StoreError } from '../errors.js';
import type { FailureRow, JobRow, JobState, RecordStatus, StoredRecord } from '../store.js';

/**
 * The columns of a stored record, `FROM records r`, with its inputs (kept beside the row in
 * `record_inputs`, by the same rowid) and its predecessor's output location (the record's context):
 * every query that returns StoredRecords selects these. Both are read by scalar subqueries, not
 * joins: with a join (even a CROSS JOIN that keeps `records` the outer loop) reading one record by
 * id took 40-110 µs at 100,000 records, 4-6 µs this way, and a synchronous run reads each record it
 * claims; lists of ready records cost the same either way. Each subquery returns its columns packed
 * in one value (the inputs joined by INPUTS_SEPARATOR, the location as "shard,offset,length"): five
 * subqueries, one per column, made a page of records cost a third more. A record whose inputs row
 * is missing reads as NULL inputs, and toStoredRecord refuses it by name rather than dropping it from
 * lists. Only the columns toStoredRecord reads are selected: `r.*` returned five more per row
 * (tokens, timestamps, counters), which made a page of records cost about 15% more to read.
 */
export const RECORD_SELECT = `SELECT r.id, r.chain_id, r.position, r.predecessor_id, r.status, r.attempts, r.job_id,
    r.lane, r.request_id, r.claimed_at, r.remaining, r.output_shard, r.output_offset, r.output_length,
    (SELECT i.vars_json || char(31) || i.media_json FROM record_inputs i WHERE i.record_key = r.rowid) AS inputs,
    (SELECT p.output_shard || ',' || p.output_offset || ',' || p.output_length
       FROM records p WHERE p.id = r.predecessor_id) AS predecessor_location
  FROM records r`;

/** Between a record's variables and media in `inputs`: JSON text holds no raw control character. */
const INPUTS_SEPARATOR = '\u001f';

/** Column shapes as SQL returns them; mapped once here so the rest of the code sees camelCase. */
export interface RecordDbRow {
  id: string;
  chain_id: string;
  position: number;
  predecessor_id: string | null;
  /**
   * Variables and media, joined by INPUTS_SEPARATOR; null only when the record's `record_inputs` row
   * is missing (a damaged store).
   */
  inputs: string | null;
  status: RecordStatus;
  attempts: number;
  job_id: string | null;
  lane?: string | null;
  request_id?: string | null;
  claimed_at?: string | null;
  remaining: number;
  output_shard: number | null;
  output_offset: number | null;
  output_length: number | null;
  /** "shard,offset,length" of the predecessor's output line; null when it has none. */
  predecessor_location: string | null;
}

export interface JobDbRow {
  id: string;
  remote_name: string | null;
  model: string;
  state: JobState;
  kind: 'inline' | 'file';
  input_file: string | null;
  request_count: number;
  requests: number | null;
  estimated_tokens: number;
  estimated_audio_tokens: number;
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
  request_id?: string | null;
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
  const split = row.inputs === null ? -1 : row.inputs.indexOf(INPUTS_SEPARATOR);
  if (row.inputs === null || split < 0)
    throw new StoreError(
      'STORE_CORRUPT',
      `Record ${JSON.stringify(row.id)} has no inputs in the state store (table record_inputs): the store ` +
        'was changed by something other than wavebatch. Touch the source (its data file, or a directory ' +
        "source's folder: a new modification time makes the next run sync it in full, which writes the " +
        'inputs again) or restore the store from a backup.',
    );
  return {
    id: row.id,
    chainId: row.chain_id,
    position: row.position,
    vars: JSON.parse(row.inputs.slice(0, split)) as StoredRecord['vars'],
    media: mediaOf(row.inputs, split),
    predecessorId: row.predecessor_id,
    status: row.status,
    attempts: row.attempts,
    jobId: row.job_id,
    lane: isLane(row.lane) ? row.lane : null,
    requestId: row.request_id ?? null,
    claimedAt: row.claimed_at ?? null,
    remaining: row.remaining,
    output: location(row.output_shard, row.output_offset, row.output_length),
    predecessorOutput: packedLocation(row.predecessor_location),
  };
}

function location(
  shard: number | null | undefined,
  offset: number | null | undefined,
  length: number | null | undefined,
): OutputLocation | null {
  return shard === null || shard === undefined || offset === null || offset === undefined
    ? null
    : { shard, offset, length: length ?? 0 };
}

export function toJobRow(row: JobDbRow): JobRow {
  return {
    id: row.id,
    remoteName: row.remote_name,
    model: row.model,
    state: row.state,
    kind: row.kind,
    inputFile: row.input_file,
    requestCount: row.requests ?? row.request_count,
    recordCount: row.request_count,
    estimatedTokens: row.estimated_tokens,
    estimatedAudioTokens: row.estimated_audio_tokens,
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
    requestId: row.request_id ?? null,
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

/**
 * A location packed as "shard,offset,length" (see RECORD_SELECT); null stays null. Cut at its two
 * commas rather than split into arrays: every record of a listed page has one, and with `mediaOf`
 * this made turning a row into a record take 0.58 µs instead of 1.03.
 */
function packedLocation(packed: string | null): OutputLocation | null {
  if (packed === null) return null;
  const first = packed.indexOf(',');
  const second = packed.indexOf(',', first + 1);
  return location(
    Number(packed.slice(0, first)),
    Number(packed.slice(first + 1, second)),
    Number(packed.slice(second + 1)),
  );
}

/** The media after INPUTS_SEPARATOR at `split`: most records have none, and `[]` need not be parsed. */
function mediaOf(inputs: string, split: number): StoredRecord['media'] {
  if (inputs.length === split + 3 && inputs.endsWith('[]')) return [];
  return JSON.parse(inputs.slice(split + 1)) as StoredRecord['media'];
}
