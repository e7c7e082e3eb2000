import { z } from 'zod';
import { RECORD_FAULTS, type RecordFault } from './model/index.js';
import { WavebatchError } from '../errors.js';

export type { RecordFault };

const JOB_FAULTS = [
  'job_failed',
  'job_expired',
  'job_stuck',
  'job_rows_failed',
  'job_no_metadata',
  'none',
] as const;
/**
 * How a batch job ends instead of (or as) a normal success. `job_stuck` stays PENDING until it
 * expires (jobExpiryMs, 48 h by default) or is cancelled, as jobs stuck in Google's queue do
 * (python-genai#1482, #2974; js-genai#1453). `job_rows_failed` ends SUCCEEDED with every row an
 * error (python-genai#2693). `job_no_metadata` ends SUCCEEDED with inline responses that carry no
 * `metadata` (js-genai#1191, python-genai#1886); a file job's rows keep their `key`.
 */
export type JobFault = (typeof JOB_FAULTS)[number];

/** Every kind of HTTP fault (the emulator command's --http-fault takes these names too). */
export const HTTP_FAULTS = [
  'status_400',
  'status_408',
  'status_413',
  'status_429',
  'status_499',
  'status_500',
  'status_503',
  'status_504',
  'drop',
  'reset_mid_body',
] as const;
/**
 * How an HTTP call fails: a 400, 429, 499 CANCELLED, 500, 503 or 504 DEADLINE_EXCEEDED with Google's
 * error body, or a 408 Request Timeout or 413 Request Entity Too Large page of Google's front end
 * (HTML, no Google error; a 413 as it refuses a body over its limit, see `maxRequestBytes`), nothing
 * done (a create creates no job, a generate bills nothing); a dropped connection
 * (no answer), or `reset_mid_body`: the call is served, its status, headers and half its body are
 * sent, then the connection is reset (a download cut off part-way).
 * `status_429` is the bare RESOURCE_EXHAUSTED users meet on batch create while under the
 * enqueued-token limit (python-genai#1901, js-genai#1264) and on list (langchain4j#3942).
 */
export type HttpFault = (typeof HTTP_FAULTS)[number];

/** Every kind of call a fault applies to. */
export const CALL_KINDS = [
  'create',
  'get',
  'list',
  'upload',
  'download',
  'delete',
  'generate',
  'count',
  'any',
] as const;
/** The kind of API call an HTTP fault or delay applies to. */
export type CallKind = (typeof CALL_KINDS)[number];

/** What the emulator should break, and how often. All randomness derives from the emulator's seed. */
export interface FaultPlan {
  /** Per request key (batch): faults consumed one per processing of that key, in order; once used up the key succeeds. */
  byKey?: Record<string, RecordFault[]>;
  /** Probability per processed request (seeded RNG). */
  rates?: Partial<Record<RecordFault, number>>;
  /** The n-th created batch job ends with jobSequence[n] ('none' = normal); later jobs are normal. */
  jobSequence?: JobFault[];
  /** The message a job ending FAILED carries (as Google's can quote a request back); a fixed one by default. */
  jobFailureMessage?: string;
  /** Probability per created job (past jobSequence) of each job fault instead of a normal success. */
  jobRates?: {
    failed?: number;
    expired?: number;
    stuck?: number;
    rows_failed?: number;
    no_metadata?: number;
  };
  /**
   * Probability per answered row of a job's output of being left out (`missing`: not billed, as never
   * answered) or written twice (`duplicated`: billed once), as users report of results files.
   */
  rowRates?: { missing?: number; duplicated?: number };
  /** Probability per upload of staying PROCESSING until it expires (`stuck_processing`). */
  fileRates?: { stuck_processing?: number };
  /**
   * Upload MIME types refused with Google's 400 "Unsupported MIME type: jsonl" (python-genai#1547;
   * Google has refused the bare `jsonl` of its own examples at times).
   */
  refuseMimeTypes?: string[];
  /**
   * HTTP-level faults: answer matching calls with 400/500/503 (Google error body) or drop the connection.
   * An entry fires on matching calls with probability `rate` (default 1) until it has fired `count`
   * times (default: no limit).
   */
  http?: Array<{
    kind: HttpFault;
    match?: CallKind;
    count?: number;
    rate?: number;
  }>;
  /** Extra real-time milliseconds before answering, per call kind. */
  slowMs?: Partial<Record<CallKind, number>>;
}

const probability = z.number().min(0).max(1);
const recordFault = z.enum(RECORD_FAULTS);
const callKind = z.enum(CALL_KINDS);

/** The FaultPlan as a zod schema, for plans that arrive as JSON (CLI, `POST /_emulator/faults`). */
export const faultPlanSchema = z
  .object({
    byKey: z.record(z.string(), z.array(recordFault)).optional(),
    rates: z.partialRecord(recordFault, probability).optional(),
    jobSequence: z.array(z.enum(JOB_FAULTS)).optional(),
    jobFailureMessage: z.string().optional(),
    jobRates: z
      .object({
        failed: probability.optional(),
        expired: probability.optional(),
        stuck: probability.optional(),
        rows_failed: probability.optional(),
        no_metadata: probability.optional(),
      })
      .strict()
      .optional(),
    rowRates: z
      .object({ missing: probability.optional(), duplicated: probability.optional() })
      .strict()
      .optional(),
    fileRates: z.object({ stuck_processing: probability.optional() }).strict().optional(),
    refuseMimeTypes: z.array(z.string().min(1)).optional(),
    http: z
      .array(
        z
          .object({
            kind: z.enum(HTTP_FAULTS),
            match: callKind.optional(),
            count: z.number().int().min(0).optional(),
            rate: probability.optional(),
          })
          .strict(),
      )
      .optional(),
    slowMs: z.partialRecord(callKind, z.number().min(0)).optional(),
  })
  .strict();

/** A fault plan that could not be read; the message names the offending field. */
export class FaultPlanError extends WavebatchError {
  readonly code = 'INPUT_FAULT_PLAN';
}

/** Validates an untrusted value as a FaultPlan. */
export function parseFaultPlan(value: unknown, origin: string): FaultPlan {
  const result = faultPlanSchema.safeParse(value);
  if (result.success) return result.data as FaultPlan;
  const issues = result.error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new FaultPlanError(`Invalid fault plan in ${origin}: ${issues}.`);
}
