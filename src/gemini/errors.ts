import { WavebatchError } from '../errors.js';
import { redact, registerSecret } from '../secrets/redact.js';
/** Stable codes for everything that can go wrong talking to the Gemini API. */
export type GeminiErrorCode =
  | 'QUOTA_EXHAUSTED'
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
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

  constructor(init: {
    code: GeminiErrorCode;
    message: string;
    status?: number;
    retryDelayMs?: number;
    retryable: boolean;
  }) {
    super(init.message);
    this.name = 'GeminiApiError';
    this.code = init.code;
    this.status = init.status;
    this.retryDelayMs = init.retryDelayMs;
    this.retryable = init.retryable;
  }

  /** Type guard that also works across duplicated module copies. */
  static override isInstance(value: unknown): value is GeminiApiError {
    return WavebatchError.isInstance(value) && value.name === 'GeminiApiError';
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
  INTERNAL: 'INTERNAL',
};

const RETRYABLE: ReadonlySet<GeminiErrorCode> = new Set([
  'QUOTA_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
  'NETWORK',
]);

const ADVICE: Record<GeminiErrorCode, string> = {
  QUOTA_EXHAUSTED: 'Wait and retry, or lower max_concurrent_jobs / enqueued_token_budget for your tier.',
  NOT_FOUND: 'It may have expired (files last 48 h) or been deleted; check the name.',
  INVALID_ARGUMENT: 'The request was rejected as malformed; fix the input or the model name before retrying.',
  PERMISSION_DENIED: 'Check that GEMINI_API_KEY (or GOOGLE_API_KEY) is valid and allowed to use this model.',
  UNAVAILABLE: 'The service is temporarily unavailable; retry later.',
  INTERNAL: 'The server failed; retry later.',
  NETWORK: 'Could not reach the API; check the network or --base-url / WAVEBATCH_BASE_URL.',
  UNKNOWN: 'Retry later; if it persists, run with WAVEBATCH_DEBUG=1 and report it.',
};

/** What the caller knows that shapes an error's text: the key to keep out of it. */
export interface ErrorContext {
  /** The API key in use: redacted by value from every message (see src/secrets). */
  apiKey?: string;
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
  registerSecret(context.apiKey);
  const status = httpStatusOf(error);
  if (status === undefined) {
    const network = isNetworkError(error);
    const code: GeminiErrorCode = network ? 'NETWORK' : 'UNKNOWN';
    return new GeminiApiError({
      code,
      retryable: network,
      message: redact(`${operation} failed: ${describe(error)}. ${ADVICE[code]}`),
    });
  }
  const body = parseErrorBody(error instanceof Error ? error.message : '');
  const code = classify(status, body?.status);
  const retryDelayMs = body ? retryDelayOf(body.details) : undefined;
  const serverMessage = body?.message ?? (error instanceof Error ? error.message : String(error));
  const wait =
    retryDelayMs !== undefined ? ` The server asks to wait ${Math.ceil(retryDelayMs / 1000)} s.` : '';
  return new GeminiApiError({
    code,
    status,
    retryable: RETRYABLE.has(code) || (code === 'UNKNOWN' && status >= 500),
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
    message: redact(
      `${operation} failed (HTTP ${status}${body?.status ? ` ${body.status}` : ''}): ${sentence(serverMessage)}${wait} ${ADVICE[code]}`,
    ),
  });
}

function classify(status: number, rpcStatus: string | undefined): GeminiErrorCode {
  const fromRpc = rpcStatus ? STATUS_TO_CODE[rpcStatus] : undefined;
  if (fromRpc) return fromRpc;
  if (status === 429) return 'QUOTA_EXHAUSTED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 400) return 'INVALID_ARGUMENT';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if (status === 503 || status === 504) return 'UNAVAILABLE';
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

/** Reads google.rpc.RetryInfo.retryDelay, a Duration: "30s", "1.5s", or {seconds, nanos}. */
export function retryDelayOf(details: unknown[] | undefined): number | undefined {
  for (const detail of details ?? []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const record = detail as Record<string, unknown>;
    if (typeof record['@type'] !== 'string' || !record['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const delay = record.retryDelay;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match?.[1]) return Math.round(Number(match[1]) * 1000);
    } else if (typeof delay === 'object' && delay !== null) {
      const { seconds, nanos } = delay as { seconds?: unknown; nanos?: unknown };
      const total = Number(seconds ?? 0) * 1000 + Number(nanos ?? 0) / 1e6;
      if (Number.isFinite(total)) return Math.round(total);
    }
  }
  return undefined;
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
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? ` (${cause.message})` : '';
  return `${error.message}${causeText}`;
}
