import { copyFile, link } from 'node:fs/promises';
import { countRequestTokens, type FileResolver, type WireGenerateRequest } from './model/index.js';
import type { FileStore } from './file-store.js';
import { fileGone, GRPC_CODE, invalidArgument, unknownFields, type RowStatus } from './google-error.js';
import { contentsRefusal } from './request-checks.js';
import { unknownRequestFields } from './request-fields.js';
import { isJsonObject } from './json-object.js';
import { fieldOf } from './model/wire-request.js';
import { nonBlankLines } from '../jsonl/lines.js';

/** One request of a batch, or the reason its input line could not be read. */
/**
 * One line of a batch's input file. `echo` holds the line's other top-level fields (not `key`, not
 * `request`), which Google copies into the line's result (an array as []).
 */
export type BatchRequest =
  | { key: string | null; request: WireGenerateRequest; echo?: Record<string, unknown> }
  | { key: string | null; invalid: RowStatus; echo?: Record<string, unknown> };

/** One inline request as it arrives: `{request, metadata: {key}}`. */
export interface InlineRequest {
  request: WireGenerateRequest;
  metadata: Record<string, unknown> | undefined;
}

/** Where a job's requests come from. */
export type JobSource =
  { kind: 'file'; fileName: string; path: string } | { kind: 'inline'; requests: InlineRequest[] };

/** A job's validated input, with what admission needs to know about it. */
export interface JobInput {
  source: JobSource;
  requestCount: number;
  inputTokens: number;
}

/**
 * Resolves `batch.inputConfig`: an uploaded file (`fileName`, linked to `privatePath` so the job
 * keeps it even if the file is deleted or expires) or inline `requests`. Counts requests and tokens;
 * `resolveFile` lets a fileData part be counted as the model will bill it (a PDF by its pages).
 */
export async function readJobInput(
  inputConfig: Record<string, unknown>,
  files: FileStore,
  privatePath: string,
  resolveFile?: FileResolver,
): Promise<JobInput> {
  let requestCount = 0;
  let inputTokens = 0;
  // `file_name` is how the SDK sends it for embeddings batches (contract §0.10); proto JSON takes both.
  const fileName = fieldOf(inputConfig, 'fileName');
  if (typeof fileName === 'string') {
    // Google's answer for any file the project cannot use (a 404 before: requests elsewhere got 403).
    const file = files.get(fileName);
    if (!file) throw fileGone(fileName);
    await link(file.path, privatePath).catch(() => copyFile(file.path, privatePath));
    for await (const entry of readInputFile(privatePath)) {
      requestCount += 1;
      if ('request' in entry) inputTokens += countRequestTokens(entry.request, resolveFile);
    }
    if (requestCount === 0) throw invalidArgument(`The input file ${file.name} contains no requests.`);
    return { source: { kind: 'file', fileName: file.name, path: privatePath }, requestCount, inputTokens };
  }
  if (inputConfig.requests !== undefined) {
    const requests = readInlineRequests(inputConfig.requests);
    for (const item of requests) inputTokens += countRequestTokens(item.request, resolveFile);
    return { source: { kind: 'inline', requests }, requestCount: requests.length, inputTokens };
  }
  throw invalidArgument('batch.inputConfig must have fileName or requests.');
}

/**
 * Reads a JSONL batch input file line by line (never whole). A line that is not
 * `{"key": ..., "request": {...}}` becomes a per-line error, as Google reports it in the results.
 */
export async function* readInputFile(path: string): AsyncGenerator<BatchRequest> {
  for await (const { text, lineNumber } of nonBlankLines(path, { utf8: 'replace' }))
    yield parseInputLine(text, lineNumber);
}

/** Parses one JSONL line of a batch input file. */
export function parseInputLine(line: string, number: number): BatchRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { key: null, invalid: badLine(number, 'it is not valid JSON') };
  }
  if (!isJsonObject(parsed)) return { key: null, invalid: badLine(number, 'it is not a JSON object') };
  const key = typeof parsed.key === 'string' ? parsed.key : null;
  const { key: _key, request: _request, ...others } = parsed;
  // Google copies them into the result line, but an array comes back empty (go-genai#513, open
  // since 2025-09): a client must not rely on echoed arrays, so the emulator does not keep them either.
  const echoed = Object.fromEntries(
    Object.entries(others).map(([name, value]) => [name, Array.isArray(value) ? [] : value]),
  );
  const echo = Object.keys(echoed).length > 0 ? { echo: echoed } : {};
  if (parsed.key !== undefined && key === null)
    return { key: null, invalid: badLine(number, '"key" must be a string'), ...echo };
  if (!isJsonObject(parsed.request))
    return { key, invalid: badLine(number, 'it has no "request" object'), ...echo };
  // Google parses each line as it processes it: a line with unknown fields fails on its own.
  const unknown = unknownRequestFields(parsed.request);
  if (unknown.length > 0)
    return {
      key,
      invalid: { code: GRPC_CODE.INVALID_ARGUMENT, message: unknownFields(unknown).message },
      ...echo,
    };
  const refusal = contentsRefusal(parsed.request, 'GenerateContentRequest');
  if (refusal)
    return { key, invalid: { code: GRPC_CODE.INVALID_ARGUMENT, message: refusal.message }, ...echo };
  return { key, request: parsed.request as WireGenerateRequest, ...echo };
}

/** Checks the `inputConfig.requests.requests` of an inline batch; a malformed body is a 400, as at Google. */
export function readInlineRequests(value: unknown): InlineRequest[] {
  const list = isJsonObject(value) ? value.requests : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalidArgument(
      'batch.inputConfig.requests.requests must be a non-empty list of {request, metadata}.',
    );
  }
  return list.map((item, index) => {
    if (!isJsonObject(item) || !isJsonObject(item.request)) {
      throw invalidArgument(
        `batch.inputConfig.requests.requests[${index}].request must be a GenerateContentRequest object.`,
      );
    }
    if (item.metadata !== undefined && !isJsonObject(item.metadata)) {
      throw invalidArgument(`batch.inputConfig.requests.requests[${index}].metadata must be an object.`);
    }
    // The create body is parsed whole: one unknown field anywhere refuses the batch.
    const unknown = unknownRequestFields(
      item.request,
      `batch.input_config.requests.requests[${index}].request`,
    );
    if (unknown.length > 0) throw unknownFields(unknown);
    const refusal = contentsRefusal(
      item.request,
      `BatchGenerateContentRequest.batch.input_config.requests.requests[${index}].request`,
    );
    if (refusal) throw refusal;
    return {
      request: item.request as WireGenerateRequest,
      metadata: item.metadata as Record<string, unknown> | undefined,
    };
  });
}

/** The key of an inline request (`metadata.key`), when it is a string. */
export function inlineKey(item: InlineRequest): string | null {
  const key = item.metadata?.key;
  return typeof key === 'string' ? key : null;
}

function badLine(number: number, reason: string): RowStatus {
  return {
    code: GRPC_CODE.INVALID_ARGUMENT,
    message: `Invalid request on line ${number} of the input file: ${reason}.`,
  };
}
