/** Canonical gRPC status names with their HTTP status, as Google's REST APIs map them. */
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

/** A canonical gRPC status name the emulator answers with. */
export type RpcStatus = keyof typeof HTTP_STATUS;

/** Google's message for an internal error (500 INTERNAL), as the real API words it. */
export const INTERNAL_ERROR_MESSAGE =
  'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';

/** An error the emulator answers with Google's body: `{error: {code, message, status, details?}}`. */
export class GoogleError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly status: RpcStatus,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'GoogleError';
    this.httpStatus = HTTP_STATUS[status];
  }

  /** The JSON body Google sends with this error. */
  body(): { error: { code: number; message: string; status: string; details?: unknown[] } } {
    return {
      error: {
        code: this.httpStatus,
        message: this.message,
        status: this.status,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** 404 naming the missing resource, worded like Google's. */
export function notFound(resource: string): GoogleError {
  return new GoogleError('NOT_FOUND', `Requested entity was not found: ${resource}.`);
}

/** 400 for a malformed request. */
export function invalidArgument(message: string): GoogleError {
  return new GoogleError('INVALID_ARGUMENT', message);
}
