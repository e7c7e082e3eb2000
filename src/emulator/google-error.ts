/** Canonical gRPC status names with their HTTP status, as Google's REST APIs map them. */
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

/** A canonical gRPC status name the emulator answers with. */
export type RpcStatus = keyof typeof HTTP_STATUS;

/**
 * The numeric gRPC code of each status (google.rpc.Code). A batch results file and inline responses
 * carry a google.rpc.Status per failed row, whose `code` is this number, not the HTTP status
 * (`{"code": 3, "message": ...}` for INVALID_ARGUMENT; python-genai#2693, the cookbook's output).
 */
export const GRPC_CODE: Readonly<Record<RpcStatus, number>> = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

/** A failed row of a batch as Google writes it: a google.rpc.Status with a numeric gRPC code. */
export interface RowStatus {
  code: number;
  message: string;
}

const STATUS_OF_HTTP: Readonly<Record<number, RpcStatus>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * A per-request error (named by its status, else by its HTTP code) as the row Google writes: the
 * gRPC code of the status; INTERNAL (13) when neither is known.
 */
export function rowStatus(error: { code: number; status?: string; message: string }): RowStatus {
  const named =
    error.status !== undefined && error.status in GRPC_CODE ? (error.status as RpcStatus) : undefined;
  const status = named ?? STATUS_OF_HTTP[error.code] ?? 'INTERNAL';
  return { code: GRPC_CODE[status], message: error.message };
}

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

/** `files/abc` → `abc`, as Google names a file in its error messages. */
export function fileIdOf(name: string): string {
  return name.startsWith('files/') ? name.slice('files/'.length) || name : name;
}

/**
 * Google's answer for a file that does not exist for this project (never uploaded, deleted, expired):
 * 403, not 404, so that a caller cannot probe other projects' file names.
 */
export function fileGone(name: string): GoogleError {
  return new GoogleError(
    'PERMISSION_DENIED',
    `You do not have permission to access the File ${fileIdOf(name)} or it may not exist.`,
  );
}

/** The limit Google puts on one request's body (inline batch requests, generateContent), in bytes. */
export const MAX_REQUEST_BYTES = 20 * 1024 * 1024;

/** Google's 400 for a request body over MAX_REQUEST_BYTES (its API front end's wording). */
export function payloadTooLarge(): GoogleError {
  return invalidArgument(`Request payload size exceeds the limit: ${MAX_REQUEST_BYTES} bytes.`);
}

/** The Files API's limit on one file, in bytes: "2 GB per file" (DOCS files), taken as 2 GiB. */
export const MAX_FILE_BYTES = 2 * 1024 ** 3;

/**
 * 400 for an upload declared larger than MAX_FILE_BYTES, refused before any byte moves (the limit
 * is Google's; the wording is the emulator's, Google does not document it).
 */
export function fileTooLarge(declaredBytes: number): GoogleError {
  return invalidArgument(
    `The file is ${declaredBytes} bytes; the Files API takes at most ${MAX_FILE_BYTES} bytes (2 GB) per file.`,
  );
}

/** One field Google's JSON parser did not know: its name and where it was (snake_case path; '' = top level). */
export interface UnknownField {
  name: string;
  at: string;
}

/**
 * Google's 400 for unknown fields: one message line per field, and a google.rpc.BadRequest listing
 * them (python-genai and gemini-cli issues quote it: `Unknown name "temprature" at
 * 'generation_config': Cannot find field.`; at the top level there is no `at` part and no `field`).
 */
export function unknownFields(fields: UnknownField[]): GoogleError {
  const describe = (field: UnknownField) =>
    `Invalid JSON payload received. Unknown name "${field.name}"${field.at ? ` at '${field.at}'` : ''}: Cannot find field.`;
  return new GoogleError('INVALID_ARGUMENT', fields.map(describe).join('\n'), [
    {
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: fields.map((field) => ({
        ...(field.at ? { field: field.at } : {}),
        description: describe(field),
      })),
    },
  ]);
}
