import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  type File as SdkFile,
  type GoogleGenAI,
  type Operation,
  type OperationFromAPIResponseParameters,
  type ServiceTier,
} from '@google/genai';
import { fromSdkBatchJob, fromWireBatch, type BatchJobInfo } from './batch-job.js';
import { downloadGeneratedFile } from './file-download.js';
import { registerApiKey } from './placeholder-key.js';
import { requireApiKey, sdkClient } from './sdk-client.js';
import { GeminiApiError, toGeminiApiError, type ApiResource, type ErrorContext } from './errors.js';
import { toGenerateContentConfig, toInlinedRequest, type ModelRequest } from './request.js';

export interface GeminiClientOptions {
  apiKey: string;
  /** Points the SDK elsewhere (the local emulator); default is Google's endpoint. */
  baseUrl?: string;
  /** Per-HTTP-attempt timeout (a download's: without a byte); default 120 s. */
  timeoutMs?: number;
  /** What the user sets to choose `baseUrl`, named in the errors' advice (see ErrorContext). */
  baseUrlSetting?: string;
}

/**
 * The MIME type batch input files are uploaded with. Google's examples say `jsonl`, which the Files
 * API has refused at times ("Unsupported MIME type: jsonl", python-genai#1547; `application/jsonl`
 * too, google-gemini/cookbook#1008). `text/plain` is on the Files API's documented list of document
 * types and is what users fell back to; no document says which types batch creation reads, and none
 * reports it refusing a text/plain input file.
 */
export const BATCH_INPUT_MIME_TYPE = 'text/plain';

/** The REST version every call uses. */
export const GEMINI_API_VERSION = 'v1beta';

/** How long an HTTP call may wait for an answer (a download: for each piece of it) by default. */
const DEFAULT_TIMEOUT_MS = 120_000;

/** A file stored by the Files API. */
export interface RemoteFile {
  name: string;
  /** What a fileData part references (`fileUri`). */
  uri?: string;
  mimeType?: string;
  sizeBytes?: number;
  createdAt?: string;
  expiresAt?: string;
  /** PROCESSING, ACTIVE or FAILED (as the API reports it). */
  state?: string;
  /** The name given at upload (wavebatch names a job's input after the job). */
  displayName?: string;
}

/** Where the requests of a new batch come from: an uploaded JSONL file, or inline requests. */
export type BatchSource = { fileName: string } | { requests: ReturnType<typeof toInlinedRequest>[] };

export interface CreateBatchInput {
  model: string;
  displayName: string;
  source: BatchSource;
}

/** Every call wavebatch makes to Google, typed, with errors as GeminiApiError. */
export interface GeminiClient {
  /**
   * Uploads a JSONL batch input file (resumable upload; the SDK reads it from disk in chunks).
   * `name` (`files/x`): the name to give it, chosen by the caller so that it is known before the
   * upload (Google answers 409 ALREADY_EXISTS when a file already has it).
   */
  uploadJsonl(path: string, displayName: string, name?: string): Promise<RemoteFile>;
  /** Uploads any file (a media file for fileData parts) with its mime type; resumable, read in chunks. */
  uploadFile(file: string | Blob, mimeType: string, displayName: string): Promise<RemoteFile>;
  /** The file's metadata, or null when it does not exist (expired or deleted). */
  getFile(name: string): Promise<RemoteFile | null>;
  deleteFile(name: string): Promise<void>;
  createBatch(input: CreateBatchInput): Promise<BatchJobInfo>;
  /** Full job status, including request counts and the job error. */
  getBatch(name: string): Promise<BatchJobInfo>;
  /** Every job of the project, all pages. Stats are not included (the SDK's list drops them). */
  listBatches(options?: { pageSize?: number }): AsyncIterable<BatchJobInfo>;
  /** Every file of the project, all pages. */
  listFiles(options?: { pageSize?: number }): AsyncIterable<RemoteFile>;
  cancelBatch(name: string): Promise<void>;
  deleteBatch(name: string): Promise<void>;
  /** Streams a file to `destPath`; the path appears only when the download is complete. */
  downloadFile(fileName: string, destPath: string): Promise<void>;
  countTokens(model: string, request: ModelRequest): Promise<number>;
  /** One synchronous call; the response as the SDK returns it (candidates, usageMetadata, …). */
  generateContent(model: string, request: ModelRequest, options?: GenerateOptions): Promise<unknown>;
}

/** How one synchronous call is sent. */
export interface GenerateOptions {
  /**
   * The service tier (`GenerateContentConfig.serviceTier`, sent as the request's top-level
   * `serviceTier`). Omitted for standard, the API's default.
   */
  serviceTier?: 'flex' | 'standard' | 'priority';
  /** Gives up on the call (the server may still finish, and bill, it). */
  signal?: AbortSignal;
  /**
   * Per-call HTTP timeout, replacing the client's (Flex answers can take 15 minutes); 0 for none,
   * when `signal` bounds the call.
   */
  timeoutMs?: number;
}

/** Builds a client on the official SDK. The key is only ever sent as a header and never echoed. */
export function createGeminiClient(options: GeminiClientOptions): GeminiClient {
  requireApiKey(options.apiKey);
  // The SDK (some 75 modules with its auth library) loads at the first call, not with every command
  // that reaches this module: `status`, `--help` and a refused flag paid for it and never called.
  let loaded: Promise<GoogleGenAI> | undefined;
  const sdk = (): Promise<GoogleGenAI> =>
    (loaded ??= sdkClient({
      apiKey: options.apiKey,
      // SDK 3.x defaults to v1; the Batch API (batchGenerateContent, batches/*) is published under v1beta.
      apiVersion: GEMINI_API_VERSION,
      httpOptions: {
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      },
    }));
  // Whatever the API echoes of this key is redacted wherever it is stored or printed.
  registerApiKey(options.apiKey);
  const call = async <T>(
    operation: string,
    work: () => Promise<T>,
    resource: ApiResource = 'collection',
    quota: ErrorContext['quota'] = 'batch',
  ): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw toGeminiApiError(error, operation, {
        apiKey: options.apiKey,
        resource,
        quota,
        ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
        ...(options.baseUrlSetting ? { baseUrlSetting: options.baseUrlSetting } : {}),
      });
    }
  };

  return {
    uploadJsonl: (path, displayName, name) =>
      call(`Uploading ${basename(path)}`, async () =>
        remoteFile(
          await (
            await sdk()
          ).files.upload({
            file: path,
            config: { displayName, mimeType: BATCH_INPUT_MIME_TYPE, ...(name ? { name } : {}) },
          }),
        ),
      ),

    uploadFile: (file, mimeType, displayName) =>
      call(`Uploading ${typeof file === 'string' ? basename(file) : displayName}`, async () =>
        remoteFile(await (await sdk()).files.upload({ file, config: { displayName, mimeType } })),
      ),

    getFile: async (name) => {
      try {
        return await call(
          `Reading file ${name}`,
          async () => remoteFile(await (await sdk()).files.get({ name })),
          'file',
        );
      } catch (error) {
        if (isGoneFileError(error)) return null;
        throw error;
      }
    },

    deleteFile: (name) =>
      call(`Deleting file ${name}`, async () => void (await (await sdk()).files.delete({ name })), 'file'),

    createBatch: (input) =>
      call(
        `Creating batch ${input.displayName}`,
        async () => {
          const src = 'fileName' in input.source ? input.source.fileName : input.source.requests;
          return fromSdkBatchJob(
            await (
              await sdk()
            ).batches.create({ model: input.model, src, config: { displayName: input.displayName } }),
          );
        },
        'model',
      ),

    getBatch: (name) =>
      call(
        `Reading batch ${name}`,
        async () => {
          // operations.get returns the raw operation JSON, which keeps batchStats and error that
          // batches.get's converter drops for the Gemini API.
          const operation = await (await sdk()).operations.get({ operation: new RawOperation(name) });
          return fromWireBatch(operation instanceof RawOperation ? operation.raw : { ...operation });
        },
        'batch',
      ),

    listBatches: (listOptions) => listAll(listOptions?.pageSize),

    listFiles: (listOptions) => listAllFiles(listOptions?.pageSize),

    cancelBatch: (name) =>
      call(`Cancelling batch ${name}`, async () => (await sdk()).batches.cancel({ name }), 'batch'),

    deleteBatch: (name) =>
      call(
        `Deleting batch ${name}`,
        async () => void (await (await sdk()).batches.delete({ name })),
        'batch',
      ),

    downloadFile: (fileName, destPath) =>
      call(
        `Downloading ${fileName}`,
        async () => {
          // Same directory so the rename is atomic; a crash leaves only a *.part file behind.
          const temp = join(
            dirname(destPath),
            `.${basename(destPath)}.${randomBytes(4).toString('hex')}.part`,
          );
          try {
            await downloadGeneratedFile(await sdk(), fileName, temp, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
            await rename(temp, destPath);
          } finally {
            await rm(temp, { force: true });
          }
        },
        'file',
      ),

    countTokens: (model, request) =>
      call(
        `Counting tokens for ${model}`,
        async () => {
          // The Gemini API's countTokens takes no systemInstruction and no response schema, though
          // both are billed as input: each is counted as a text part (the schema as its JSON).
          const schema =
            request.responseJsonSchema === undefined ? [] : [JSON.stringify(request.responseJsonSchema)];
          const extra = [...(request.systemInstruction ? [request.systemInstruction] : []), ...schema];
          const contents =
            extra.length > 0
              ? [{ role: 'user', parts: extra.map((text) => ({ text })) }, ...request.contents]
              : request.contents;
          const response = await (await sdk()).models.countTokens({ model, contents });
          return response.totalTokens ?? 0;
        },
        'model',
        'count',
      ),

    generateContent: (model, request, generate = {}) =>
      call(
        `Generating with ${model}`,
        async () =>
          (await sdk()).models.generateContent({
            model,
            contents: request.contents,
            config: {
              ...toGenerateContentConfig(request),
              ...(generate.serviceTier && generate.serviceTier !== 'standard'
                ? { serviceTier: generate.serviceTier as ServiceTier }
                : {}),
              ...(generate.signal ? { abortSignal: generate.signal } : {}),
              ...(generate.timeoutMs !== undefined ? { httpOptions: { timeout: generate.timeoutMs } } : {}),
            },
          }),
        'model',
        'generation',
      ),
  };

  async function* listAllFiles(pageSize: number | undefined): AsyncIterable<RemoteFile> {
    const pager = await call('Listing files', async () =>
      (await sdk()).files.list(pageSize ? { config: { pageSize } } : {}),
    );
    const iterator = pager[Symbol.asyncIterator]();
    for (;;) {
      const next = await call('Listing files', () => iterator.next());
      if (next.done) return;
      yield remoteFile(next.value);
    }
  }

  async function* listAll(pageSize: number | undefined): AsyncIterable<BatchJobInfo> {
    const pager = await call('Listing batches', async () =>
      (await sdk()).batches.list(pageSize ? { config: { pageSize } } : {}),
    );
    const iterator = pager[Symbol.asyncIterator]();
    for (;;) {
      const next = await call('Listing batches', () => iterator.next());
      if (next.done) return;
      yield fromSdkBatchJob(next.value);
    }
  }
}

/** An Operation that keeps the API's raw JSON, so nothing is lost in conversion. */
class RawOperation implements Operation<unknown> {
  constructor(
    readonly name: string,
    readonly raw: Record<string, unknown> = {},
  ) {}

  _fromAPIResponse({ apiResponse }: OperationFromAPIResponseParameters): RawOperation {
    return new RawOperation(this.name, apiResponse);
  }
}

/**
 * A missing file is 404, or, as Google answers for files that expired or belong to nobody, 403
 * "... or it may not exist"; a 403 for a bad key is not swallowed.
 */
function isGoneFileError(error: unknown): boolean {
  if (!GeminiApiError.isInstance(error)) return false;
  if (error.code === 'NOT_FOUND') return true;
  return error.code === 'PERMISSION_DENIED' && /may not exist|does not exist/i.test(error.message);
}

function remoteFile(file: SdkFile): RemoteFile {
  const out: RemoteFile = { name: file.name ?? '' };
  if (file.displayName) out.displayName = file.displayName;
  if (file.uri) out.uri = file.uri;
  if (file.mimeType) out.mimeType = file.mimeType;
  const size = Number(file.sizeBytes);
  if (file.sizeBytes !== undefined && Number.isFinite(size)) out.sizeBytes = size;
  if (file.createTime) out.createdAt = file.createTime;
  if (file.expirationTime) out.expiresAt = file.expirationTime;
  if (file.state) out.state = String(file.state);
  return out;
}
