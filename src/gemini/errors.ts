import { describeError, MAX_SERVER_MESSAGE_BYTES, WavebatchError, type ErrorCategory } from '../errors.js';
import { capText } from '../results/capped-text.js';
import { redact } from '../secrets/redact.js';
import { registerApiKey } from './placeholder-key.js';
/** One exceeded quota of a 429 (google.rpc.QuotaFailure): Google's names for it, and its limit. */
export interface QuotaViolation {
  quotaId?: string;
  quotaMetric?: string;
  /** quotaValue: the limit, when given as a number. */
  limit?: number;
}

/** Stable codes for everything that can go wrong talking to the Gemini API. */
export type GeminiErrorCode =
  | 'QUOTA_EXHAUSTED'
  | 'NOT_FOUND'
  /** A 404 that is no Gemini API error (an HTML page, an empty body): the API root is wrong. */
  | 'ENDPOINT_NOT_FOUND'
  /** A 404 saying the model is not served (`models/x is not found for API version …`): model.name is wrong. */
  | 'MODEL_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  /**
   * The request's body is over what the API takes in one call: a 413 (Google's front end answers it
   * as an HTML page, or as a JSON error) or the API's 400 "Request payload size exceeds the limit".
   * The same call is refused at every try; smaller ones are not.
   */
  | 'PAYLOAD_TOO_LARGE'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'NETWORK'
  | 'UNKNOWN';

/** A failed call to the Gemini API, classified so callers can decide to wait, retry or give up. */
export class GeminiApiError extends WavebatchError {
  readonly code: GeminiErrorCode;
  /** HTTP status, when the server answered at all. */
  readonly status: number | undefined;
  /** Server-suggested wait (google.rpc.RetryInfo), when present. */
  readonly retryDelayMs: number | undefined;
  /** True when the same call may succeed later unchanged. */
  readonly retryable: boolean;
  /** The quotas a 429 names (google.rpc.QuotaFailure's violations). */
  readonly quotas: readonly QuotaViolation[];
  /**
   * The connection broke while the answer's body was read: the server had served the call (Google
   * bills a generateContent it answered) and the answer was lost on the way.
   */
  readonly answerCut: boolean;

  constructor(init: {
    code: GeminiErrorCode;
    message: string;
    status?: number;
    retryDelayMs?: number;
    retryable: boolean;
    quotas?: readonly QuotaViolation[];
    answerCut?: boolean;
  }) {
    super(init.message);
    this.code = init.code;
    this.status = init.status;
    this.retryDelayMs = init.retryDelayMs;
    this.retryable = init.retryable;
    this.quotas = init.quotas ?? [];
    this.answerCut = init.answerCut ?? false;
  }

  /** A wrong API root or model name is the user's input to fix (exit 2); every other API failure is a failure. */
  override get category(): ErrorCategory {
    return this.code === 'ENDPOINT_NOT_FOUND' || this.code === 'MODEL_NOT_FOUND' ? 'input' : super.category;
  }
}

interface ServerErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: unknown[];
}

const STATUS_TO_CODE: Record<string, GeminiErrorCode> = {
  RESOURCE_EXHAUSTED: 'QUOTA_EXHAUSTED',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  FAILED_PRECONDITION: 'INVALID_ARGUMENT',
  OUT_OF_RANGE: 'INVALID_ARGUMENT',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  UNAUTHENTICATED: 'PERMISSION_DENIED',
  UNAVAILABLE: 'UNAVAILABLE',
  DEADLINE_EXCEEDED: 'UNAVAILABLE',
  // 499: Google cancelled the call itself (a call the client gives up on never reads an answer), so
  // it did nothing, and the same call may succeed: read as a refusal, it dead-lettered the record.
  CANCELLED: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
};

const RETRYABLE: ReadonlySet<GeminiErrorCode> = new Set([
  'QUOTA_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
  'NETWORK',
]);

/** The API root the SDK uses when no base URL is given. */
const GOOGLE_API_ROOT = 'https://generativelanguage.googleapis.com';

const ADVICE: Record<Exclude<GeminiErrorCode, 'NOT_FOUND' | 'ENDPOINT_NOT_FOUND' | 'NETWORK'>, string> = {
  QUOTA_EXHAUSTED: 'Wait and retry, or lower max_concurrent_jobs / enqueued_token_budget for your tier.',
  MODEL_NOT_FOUND:
    'Check the model name (model.name, e.g. gemini-2.5-flash): this API does not serve it for this call (ListModels names the models it has).',
  INVALID_ARGUMENT: 'The request was rejected as malformed; fix the input or the model name before retrying.',
  PAYLOAD_TOO_LARGE:
    'The request is larger than the API takes in one call (inline batch requests: 20 MB in all): a batch run sends such a job again as an uploaded file or as smaller jobs; a single request this large must have smaller inputs.',
  PERMISSION_DENIED: 'Check that GEMINI_API_KEY (or GOOGLE_API_KEY) is valid and allowed to use this model.',
  UNAVAILABLE: 'The service is temporarily unavailable; retry later.',
  INTERNAL: 'The server failed; retry later.',
  UNKNOWN: 'Retry later; if it persists, run with WAVEBATCH_DEBUG=1 and report it.',
};

/** What a call is about: a Gemini API 404 means that thing is missing, and the advice says how it goes missing. */
export type ApiResource = 'file' | 'batch' | 'model' | 'collection';

const NOT_FOUND_ADVICE: Record<ApiResource, string> = {
  file: 'The file may have expired (files last 48 h) or been deleted; check the name.',
  batch:
    'No such batch job in this project: it may have been deleted, or created with another API key; list the jobs with `wavebatch jobs`.',
  model:
    'Check the model name (model.name, e.g. gemini-2.5-flash); a file the request names may also have expired (files last 48 h) or been deleted.',
  collection: 'This API does not offer the call; check that {setting} is the Gemini API root.',
};

/** What chooses the API root for a workload's commands and the library's clients. */
const WORKLOAD_BASE_URL_SETTING = 'api.base_url / --base-url / WAVEBATCH_BASE_URL';

/** What the caller knows that shapes an error's text: the key to keep out of it, what was asked, and where. */
export interface ErrorContext {
  /** The API key in use: redacted by value from every message (see src/secrets). */
  apiKey?: string;
  /** What the call was about, for the advice on a 404. */
  resource?: ApiResource;
  /**
   * The quotas a 429 is against: the Batch API's (concurrent jobs, enqueued tokens; the default),
   * generateContent's requests and tokens per minute and day, or countTokens' own rate, for the
   * advice on a 429.
   */
  quota?: 'batch' | 'generation' | 'count';
  /** The API root in use, when not Google's. */
  baseUrl?: string;
  /**
   * What the user sets to choose the API root, for the advice (default: the config's api.base_url,
   * --base-url or WAVEBATCH_BASE_URL); the one-off job commands read no config, so theirs differs.
   */
  baseUrlSetting?: string;
}

/** The advice for the project's Files API storage quota (FileStorageBytesPerProject), full. */
const STORAGE_FULL_ADVICE =
  "The project's Files API storage (20 GB; files are kept 48 h) is full: wavebatch deletes its batch inputs and results as jobs settle and retries; delete other files of the project, or lower max_concurrent_jobs.";

/** The advice for a synchronous request's 429: the settings that pace the synchronous lanes. */
const GENERATION_QUOTA_ADVICE =
  "Wait and retry (the rate limiter slows down on its own); if it keeps happening, set your tier's figures under limits: (usage_tier, or a model's flex / standard / priority rpm, tpm, rpd) or lower execution.sync_concurrency.";

/**
 * The advice for a countTokens 429: its rate limit is its own (it is free), and wavebatch calls it
 * only to calibrate its token estimate, so no setting of the lanes changes it.
 */
const COUNT_QUOTA_ADVICE =
  'countTokens (free) has its own rate limit, and wavebatch calls it only to calibrate its token estimate: wait a minute and retry, or ask for fewer samples (estimate --calibrate n); a run skips the calibration and goes on with the local estimate.';

/** The advice for a code; a 404's depends on what was asked for and where, a 429's on the quota. */
function adviceFor(code: GeminiErrorCode, context: ErrorContext): string {
  const setting = context.baseUrlSetting ?? WORKLOAD_BASE_URL_SETTING;
  switch (code) {
    case 'QUOTA_EXHAUSTED':
      if (context.quota === 'generation') return GENERATION_QUOTA_ADVICE;
      return context.quota === 'count' ? COUNT_QUOTA_ADVICE : ADVICE[code];
    case 'NOT_FOUND':
      return NOT_FOUND_ADVICE[context.resource ?? 'collection'].replace('{setting}', setting);
    case 'NETWORK':
      return `Could not reach the API; check the network or ${setting}.`;
    case 'ENDPOINT_NOT_FOUND':
      return (
        `The server at ${context.baseUrl ?? GOOGLE_API_ROOT} answered 404 without a Gemini API error, so it does not ` +
        `serve the Gemini API there: check ${setting} (the API root, e.g. ${GOOGLE_API_ROOT} ` +
        'or a `wavebatch emulator` URL, without /v1beta).'
      );
    default:
      return ADVICE[code];
  }
}

/**
 * Turns anything the SDK or fetch threw into a GeminiApiError. Every message goes through the one
 * redaction (src/secrets: the key by value, key-shaped text, `key=` parameters, URL credentials), and
 * the original error is not attached, so the key cannot leak via `cause`.
 */
export function toGeminiApiError(
  error: unknown,
  operation: string,
  context: ErrorContext = {},
): GeminiApiError {
  if (GeminiApiError.isInstance(error)) return error;
  registerApiKey(context.apiKey);
  const status = httpStatusOf(error);
  if (status === undefined) {
    const network = isNetworkError(error);
    const code: GeminiErrorCode = network ? 'NETWORK' : 'UNKNOWN';
    return new GeminiApiError({
      code,
      retryable: network,
      answerCut: isBodyCut(error),
      message: redact(`${operation} failed: ${describeError(error)}. ${adviceFor(code, context)}`),
    });
  }
  const body = parseErrorBody(error instanceof Error ? error.message : '');
  // Google's API answers a 404 with a google.rpc.Status (`NOT_FOUND`); the SDK wraps any other
  // server's page with the HTTP reason phrase (`Not Found`) instead.
  const rpcStatus =
    body?.status !== undefined && /^[A-Z][A-Z_]+$/.test(body.status) ? body.status : undefined;
  const code =
    status === 404 && rpcStatus === undefined
      ? 'ENDPOINT_NOT_FOUND'
      : tooLarge(status, body?.message)
        ? 'PAYLOAD_TOO_LARGE'
        : missingFile(status, body?.message)
          ? 'NOT_FOUND'
          : refusedKey(status, body)
            ? 'PERMISSION_DENIED'
            : missingModel(status, body?.message)
              ? 'MODEL_NOT_FOUND'
              : classify(status, rpcStatus);
  const retryDelayMs = body ? retryDelayOf(body.details) : undefined;
  const quotas = quotasOf(body?.details);
  const serverMessage =
    code === 'ENDPOINT_NOT_FOUND'
      ? 'Not Found.'
      : code === 'PAYLOAD_TOO_LARGE' && body?.message === undefined
        ? 'Request Entity Too Large.' // the front end's HTML page says no more
        : (body?.message ?? describeError(error));
  const wait =
    retryDelayMs !== undefined ? ` The server asks to wait ${Math.ceil(retryDelayMs / 1000)} s.` : '';
  const advice =
    code === 'QUOTA_EXHAUSTED' && /file_storage_bytes/.test(serverMessage)
      ? STORAGE_FULL_ADVICE
      : adviceFor(code, context);
  return new GeminiApiError({
    code,
    status,
    retryable: RETRYABLE.has(code) || (code === 'UNKNOWN' && status >= 500),
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
    ...(quotas.length > 0 ? { quotas } : {}),
    message: redact(
      `${operation} failed (HTTP ${status}${body?.status ? ` ${body.status}` : ''}): ${sentence(serverMessage)}${wait} ${advice}`,
    ),
  });
}

/**
 * A body over the API's size limit: a 413 from Google's front end (an HTML page, or a JSON error), or
 * the API's own 400 "Request payload size exceeds the limit: 20971520 bytes." for inline requests.
 * Read as a malformed request or an unknown failure, the same batch job was packed again at the same
 * size at every try until its records were dead-lettered.
 */
function tooLarge(status: number, message: string | undefined): boolean {
  return status === 413 || (status === 400 && message !== undefined && PAYLOAD_LIMIT.test(message));
}

const PAYLOAD_LIMIT = /Request payload size exceeds the limit(?::\s*(\d+) bytes)?/i;

/** The byte limit a too-large refusal names (Google's 400 does; the front end's 413 page does not). */
export function payloadLimitOf(error: GeminiApiError): number | undefined {
  if (error.code !== 'PAYLOAD_TOO_LARGE') return undefined;
  const limit = PAYLOAD_LIMIT.exec(error.message)?.[1];
  return limit === undefined ? undefined : Number(limit);
}

/**
 * Google answers a file that does not exist (expired, deleted, never uploaded) with 403 "You do not
 * have permission to access the File x or it may not exist.", not 404: it is a missing file, not a
 * key without rights, so it gets the missing file's code and advice.
 */
function missingFile(status: number, message: string | undefined): boolean {
  return status === 403 && message !== undefined && /access the File \S+ or it may not exist/i.test(message);
}

/** ErrorInfo reasons Google gives a key it does not accept (unknown or mistyped, deleted, expired). */
const KEY_REFUSALS: ReadonlySet<string> = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED']);

/**
 * Google answers a key it does not know with 400 INVALID_ARGUMENT ("API key not valid. Please pass a
 * valid API key.", ErrorInfo reason API_KEY_INVALID), not 403: it is the key that is refused, and
 * every call would meet it. Read as a malformed request, a synchronous run dead-lettered every record
 * one by one as if each were at fault.
 */
function refusedKey(status: number, body: ServerErrorBody | undefined): boolean {
  if (status !== 400 || body === undefined) return false;
  const reasons = (body.details ?? []).flatMap((detail) =>
    typeof detail === 'object' &&
    detail !== null &&
    typeof (detail as { reason?: unknown }).reason === 'string'
      ? [(detail as { reason: string }).reason]
      : [],
  );
  if (reasons.some((reason) => KEY_REFUSALS.has(reason))) return true;
  return body.message !== undefined && /^API key (not valid|not found|expired)/i.test(body.message);
}

/**
 * A file the request names is gone (Google's 403 "… or it may not exist", read as NOT_FOUND above):
 * the request's own problem, not the key's (a refused key is PERMISSION_DENIED), so it fails that
 * request alone; uploading the file again mends it.
 */
export function isMissingFileError(error: unknown): boolean {
  return GeminiApiError.isInstance(error) && error.code === 'NOT_FOUND' && error.status === 403;
}

/**
 * Google's 404 for a model it does not serve names it first: "models/gemini-2.5-flsh is not found for
 * API version v1beta, or is not supported for batchGenerateContent. …". Every job and request of the
 * run would meet it: a misspelled model.name dead-lettered the whole workload, job by job.
 */
function missingModel(status: number, message: string | undefined): boolean {
  return status === 404 && message !== undefined && /^models\/\S+ is not found\b/.test(message);
}

function classify(status: number, rpcStatus: string | undefined): GeminiErrorCode {
  const fromRpc = rpcStatus ? STATUS_TO_CODE[rpcStatus] : undefined;
  if (fromRpc) return fromRpc;
  if (status === 429) return 'QUOTA_EXHAUSTED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 400) return 'INVALID_ARGUMENT';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  // 408: the front end's Request Timeout page (HTML, no Google error): the request did not arrive in
  // time, so nothing was done, and sent again it may. Read as a refusal, it dead-lettered the record.
  if (status === 408 || status === 499 || status === 503 || status === 504) return 'UNAVAILABLE';
  if (status === 500) return 'INTERNAL';
  return 'UNKNOWN';
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  const status = (error as { status: unknown }).status;
  return typeof status === 'number' && status >= 100 && status < 600 ? status : undefined;
}

/** The SDK's ApiError message is the JSON body of the response: `{"error": {code, message, status, details}}`. */
function parseErrorBody(message: string): ServerErrorBody | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(message.slice(start));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const inner = 'error' in parsed ? (parsed as { error: unknown }).error : parsed;
    if (typeof inner !== 'object' || inner === null) return undefined;
    const record = inner as Record<string, unknown>;
    return {
      ...(typeof record.code === 'number' ? { code: record.code } : {}),
      ...(typeof record.message === 'string' ? { message: record.message } : {}),
      ...(typeof record.status === 'string' ? { status: record.status } : {}),
      ...(Array.isArray(record.details) ? { details: record.details } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Reads google.rpc.RetryInfo.retryDelay, a Duration: "30s", "1.5s", or {seconds, nanos}, in ms
 * rounded up (a wait cut short by a fraction of a ms could still be early), held to an hour.
 */
export function retryDelayOf(details: unknown[] | undefined): number | undefined {
  const asked = askedRetryDelay(details);
  return asked === undefined ? undefined : Math.min(asked, MAX_SERVER_RETRY_DELAY_MS);
}

/**
 * The longest wait a server's RetryInfo is honoured for; the call is then made again, and a server
 * still refusing says how long again. Google asks for seconds; a delay of years (a server at the
 * base URL, a bug) stopped the synchronous lanes and the retries for as long as the run was left.
 */
const MAX_SERVER_RETRY_DELAY_MS = 60 * 60_000;

function askedRetryDelay(details: unknown[] | undefined): number | undefined {
  for (const detail of details ?? []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const record = detail as Record<string, unknown>;
    if (typeof record['@type'] !== 'string' || !record['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const delay = record.retryDelay;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match?.[1]) return wholeMsUp(Number(match[1]) * 1000);
    } else if (typeof delay === 'object' && delay !== null) {
      const { seconds, nanos } = delay as { seconds?: unknown; nanos?: unknown };
      const total = Number(seconds ?? 0) * 1000 + Number(nanos ?? 0) / 1e6;
      if (Number.isFinite(total)) return wholeMsUp(total);
    }
  }
  return undefined;
}

/** The violations of google.rpc.QuotaFailure details: quotaId, quotaMetric, quotaValue. */
function quotasOf(details: unknown[] | undefined): QuotaViolation[] {
  const quotas: QuotaViolation[] = [];
  for (const detail of details ?? []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const record = detail as Record<string, unknown>;
    if (typeof record['@type'] !== 'string' || !record['@type'].endsWith('google.rpc.QuotaFailure')) continue;
    for (const violation of Array.isArray(record.violations) ? record.violations : []) {
      if (typeof violation !== 'object' || violation === null) continue;
      const { quotaId, quotaMetric, quotaValue } = violation as Record<string, unknown>;
      const limit = Number(quotaValue);
      quotas.push({
        ...(typeof quotaId === 'string' ? { quotaId } : {}),
        ...(typeof quotaMetric === 'string' ? { quotaMetric } : {}),
        ...(quotaValue !== undefined && quotaValue !== '' && Number.isFinite(limit) ? { limit } : {}),
      });
    }
  }
  return quotas;
}

/** Whether a violation's id or metric matches `pattern`. */
function names(violation: QuotaViolation, pattern: RegExp): boolean {
  return pattern.test(violation.quotaId ?? '') || pattern.test(violation.quotaMetric ?? '');
}

/**
 * A 429 that names the Batch API's enqueued-token quota (BatchEnqueuedTokensPerModel,
 * batch_enqueued_tokens): the jobs of the model hold too many input tokens now. A bare 429 (no
 * QuotaFailure, as Google answers creates under every limit at times) is not one.
 */
export function isEnqueuedTokenRefusal(error: unknown): boolean {
  return (
    GeminiApiError.isInstance(error) &&
    error.code === 'QUOTA_EXHAUSTED' &&
    error.quotas.some((quota) => names(quota, /enqueued_?tokens/i))
  );
}

/**
 * The input-tokens-per-minute limit a 429 names (quotaId GenerateContent…InputTokens…PerMinute, as
 * GenerateContentPaidTierInputTokensPerModelPerMinute), when it gives one: a request with more
 * input tokens than that is refused at every try, however long it waits.
 */
export function inputTokensPerMinuteLimitOf(error: unknown): number | undefined {
  if (!GeminiApiError.isInstance(error) || error.code !== 'QUOTA_EXHAUSTED') return undefined;
  const limits = error.quotas.flatMap((quota) =>
    quota.limit !== undefined && /InputTokens\w*PerMinute/i.test(quota.quotaId ?? '') ? [quota.limit] : [],
  );
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/** `ms` rounded up to a whole ms, after rounding away float noise (1.1 s is 1100.0000000000002 ms). */
function wholeMsUp(ms: number): number {
  return Math.ceil(Math.round(ms * 1000) / 1000);
}

/**
 * fetch's own error when the connection breaks after the answer's status and headers came, while its
 * body is read (undici's `TypeError: terminated`); one that never got an answer is `fetch failed`.
 */
function isBodyCut(error: unknown): boolean {
  return error instanceof TypeError && error.message === 'terminated';
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return true;
  if (error instanceof TypeError && /fetch failed|network/i.test(error.message)) return true;
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } }).cause?.code ??
    (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|UND_ERR)/.test(code);
}

/** Ends a server message with exactly one full stop, so advice can follow it. */
function sentence(text: string): string {
  const trimmed = capText(text.trim(), MAX_SERVER_MESSAGE_BYTES);
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
