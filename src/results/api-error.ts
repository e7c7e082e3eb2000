/** A google.rpc.Status as found in a batch result line's `error`. */
export interface RpcStatusFacts {
  code: number | null;
  status: string | null;
  message: string;
  retryable: boolean;
}

/** gRPC canonical codes → the HTTP status Google maps them to. */
const HTTP_OF_GRPC: Record<number, number> = {
  1: 499, // CANCELLED
  2: 500, // UNKNOWN
  3: 400, // INVALID_ARGUMENT
  4: 504, // DEADLINE_EXCEEDED
  5: 404, // NOT_FOUND
  6: 409, // ALREADY_EXISTS
  7: 403, // PERMISSION_DENIED
  8: 429, // RESOURCE_EXHAUSTED
  9: 400, // FAILED_PRECONDITION
  10: 409, // ABORTED
  11: 400, // OUT_OF_RANGE
  12: 501, // UNIMPLEMENTED
  13: 500, // INTERNAL
  14: 503, // UNAVAILABLE
  15: 500, // DATA_LOSS
  16: 401, // UNAUTHENTICATED
};

const HTTP_OF_STATUS: Record<string, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

/**
 * Reads a per-request error. It is retried unless it is a client error (4xx) other than 408 and 429:
 * sending the same request again would fail the same way. ABORTED (a conflict) and CANCELLED are
 * transient by definition and retried too, as is a 403 for an uploaded file that no longer exists.
 * `code` may be an HTTP status or a gRPC code.
 */
export function rpcStatusFacts(error: unknown): RpcStatusFacts {
  const fields = error !== null && typeof error === 'object' ? (error as Record<string, unknown>) : {};
  const code = typeof fields.code === 'number' && Number.isFinite(fields.code) ? fields.code : null;
  const status = typeof fields.status === 'string' && fields.status !== '' ? fields.status : null;
  const message =
    typeof fields.message === 'string' ? fields.message : typeof error === 'string' ? error : '';
  const http =
    code !== null && code >= 100
      ? code
      : code !== null
        ? HTTP_OF_GRPC[code]
        : status !== null
          ? HTTP_OF_STATUS[status]
          : undefined;
  // A request whose uploaded media expired fails with 403 "... may not exist"; the retry rebuilds
  // the request, which uploads the file again.
  const missingFile =
    (http === 403 || status === 'PERMISSION_DENIED') && /not exist|not found|expired/i.test(message);
  const transient =
    status === 'ABORTED' || status === 'CANCELLED' || code === 10 || code === 1 || missingFile;
  const clientError = http !== undefined && http >= 400 && http < 500 && http !== 408 && http !== 429;
  return { code, status, message, retryable: transient || !clientError };
}
