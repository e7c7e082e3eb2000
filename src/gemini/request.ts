import { isUtf8 } from 'node:buffer';
import type { Content, GenerateContentConfig, InlinedRequest, Part } from '@google/genai';
import type { MediaInput } from '../workload/record.js';
import { pdfPagesIn } from '../media/content-facts.js';
import {
  documentTokens,
  IMAGE_HEAD_BYTES,
  imageTokens,
  timedMediaKind,
  timedMediaTokens,
  timedMediaTokensOfSize,
  TOKENS_PER_IMAGE,
} from '../media/media-tokens.js';
import { invalidUtf8Offset } from '../jsonl/utf8.js';
import { openMediaFile, type OpenMediaFile } from '../media/media-file.js';
import { MediaInputError } from '../media/media-input-error.js';

export { MediaInputError } from '../media/media-input-error.js';

/**
 * One model request, independent of how it is sent (JSONL line, inline, countTokens). Keys in
 * `generationConfig` are camelCase (snake_case input is normalized), as both the REST wire format
 * and the SDK expect.
 */
export interface ModelRequest {
  contents: Content[];
  systemInstruction?: string;
  generationConfig?: Record<string, unknown>;
  /** A JSON Schema for the response; sent as generationConfig.responseJsonSchema. */
  responseJsonSchema?: unknown;
  /**
   * Estimated tokens of the fileData parts, whose bytes are not in the request (PDF pages and
   * image sizes are read at upload). Planning only; never sent.
   */
  fileTokens?: number;
  /** The part of `fileTokens` that is uploaded audio, billed at the audio rate. Planning only; never sent. */
  fileAudioTokens?: number;
}

/** Per-part cap for inline media: the API rejects whole requests above ~20 MB, so fail early and by name. */
export const MAX_MEDIA_PART_BYTES = 20 * 1024 * 1024;

/** The Files API takes files up to 2 GB. */
export const MAX_UPLOADED_MEDIA_BYTES = 2 * 1024 * 1024 * 1024;

/** An uploaded media file, as a fileData part references it. */
export interface FileReference {
  fileUri: string;
  mimeType: string;
  /** Tokens the file will cost, when known (a PDF's pages); otherwise estimated from its type and size. */
  estimatedTokens?: number;
}

/** How large media leave the request: uploaded once to the Files API and referenced by URI. */
export interface MediaUploads {
  /** Media of at least this many bytes are uploaded; smaller ones are sent inline. */
  minBytes: number;
  /**
   * A live uploaded copy of the file, uploading it when there is none. Must be stable while the copy
   * lives. `file` is the media file opened and checked (a regular file, confined): an upload reads it
   * from there, not from its path again.
   */
  fileFor(media: MediaInput, file: OpenMediaFile): Promise<FileReference>;
  /** Told that the API found no file at `fileUri`: the next `fileFor` of its media asks again (and uploads it anew). */
  forgetFile?(fileUri: string): void;
}

/** Mime types sent as inlineData; text/* is read and sent as a text part instead. */
const INLINE_MIME = /^(image\/(png|jpeg|webp|heic|heif)|application\/pdf|audio\/[\w.+-]+|video\/[\w.+-]+)$/;

export interface BuildModelRequestInput {
  promptText: string;
  systemText?: string | null | undefined;
  media?: MediaInput[];
  /**
   * A grouped request's media, each record's after a text part naming it (`label`), so the model
   * can tell whose file is whose; sent after `media`.
   */
  labelledMedia?: ReadonlyArray<{ label: string; media: readonly MediaInput[] }>;
  generationConfig?: Record<string, unknown> | undefined;
  responseJsonSchema?: unknown;
  /** Without it every media file is inlined (up to MAX_MEDIA_PART_BYTES). */
  uploads?: MediaUploads | undefined;
}

/**
 * Builds a user turn: the prompt text first, then each media file (text inlined, binaries base64,
 * or, at or above `uploads.minBytes`, a fileData part referencing the uploaded copy).
 */
export async function buildModelRequest(input: BuildModelRequestInput): Promise<ModelRequest> {
  const parts: Part[] = [{ text: input.promptText }];
  const request: ModelRequest = { contents: [{ role: 'user', parts }] };
  if ((input.media?.length ?? 0) > 0 || (input.labelledMedia?.length ?? 0) > 0)
    await addMediaParts(input, parts, request);
  if (input.systemText) request.systemInstruction = input.systemText;
  const withSchema = input.responseJsonSchema !== undefined && input.responseJsonSchema !== null;
  const generationConfig = normalizedGenerationConfig(input.generationConfig, withSchema);
  if (withSchema) request.responseJsonSchema = input.responseJsonSchema;
  if (generationConfig) request.generationConfig = generationConfig;
  return request;
}

/** Appends the media parts of `input` to `parts`, and their file token estimates to `request`. */
async function addMediaParts(
  input: BuildModelRequestInput,
  parts: Part[],
  request: ModelRequest,
): Promise<void> {
  let fileTokens: number | undefined;
  let fileAudioTokens = 0;
  const add = async (media: MediaInput) => {
    const built = await mediaPart(media, input.uploads);
    parts.push(built.part);
    if (built.fileTokens === undefined) return;
    fileTokens = (fileTokens ?? 0) + built.fileTokens;
    if (timedMediaKind(media.mimeType) === 'audio') fileAudioTokens += built.fileTokens;
  };
  for (const media of input.media ?? []) await add(media);
  for (const { label, media } of input.labelledMedia ?? []) {
    if (media.length === 0) continue;
    parts.push({ text: label });
    for (const file of media) await add(file);
  }
  if (fileTokens !== undefined) request.fileTokens = fileTokens;
  if (fileAudioTokens > 0) request.fileAudioTokens = fileAudioTokens;
}

/** The config without a response schema (`plain`) and with one (`schema`), once each per config object given. */
const normalizedConfigs = new WeakMap<object, { plain?: GenerationConfig; schema?: GenerationConfig }>();
/** What `normalizedConfigs` holds for a request without generation config: no config object to key it by. */
const noConfig: { plain?: GenerationConfig; schema?: GenerationConfig } = {};

type GenerationConfig = Readonly<Record<string, unknown>>;

/**
 * The request's generationConfig: `config` in camelCase, with the JSON response type when a schema
 * comes with it; undefined when empty. A run builds every request from the one config of its
 * workload, so it is normalised once and the requests share it (frozen: a lane that changes a
 * request's config, e.g. a larger output limit, makes a new object), which also lets
 * toBatchFileLine serialise it once (`wireConfigJson`).
 */
function normalizedGenerationConfig(
  config: Record<string, unknown> | undefined,
  withSchema: boolean,
): GenerationConfig | undefined {
  let known = config === undefined ? noConfig : normalizedConfigs.get(config);
  if (!known) {
    known = {};
    normalizedConfigs.set(config as object, known);
  }
  const kind = withSchema ? 'schema' : 'plain';
  if (kind in known) return known[kind];
  const normalized = camelKeys(config ?? {});
  if (withSchema) normalized.responseMimeType = 'application/json';
  const shared = Object.keys(normalized).length > 0 ? Object.freeze(normalized) : undefined;
  known[kind] = shared;
  return shared;
}

async function mediaPart(
  media: MediaInput,
  uploads: MediaUploads | undefined,
): Promise<{ part: Part; fileTokens?: number }> {
  // Opened once and read from the same handle: what was checked (a regular file, its size) is what is sent.
  const file = await openMediaFile(media.path, media.confinedTo);
  try {
    return await partOf(media, file, () => file.handle.readFile(), uploads);
  } finally {
    await file.handle.close();
  }
}

async function partOf(
  media: MediaInput,
  file: OpenMediaFile,
  read: () => Promise<Buffer>,
  uploads: MediaUploads | undefined,
): Promise<{ part: Part; fileTokens?: number }> {
  const { size } = file;
  const isText = media.mimeType.startsWith('text/');
  if (!isText && !INLINE_MIME.test(media.mimeType)) {
    throw new MediaInputError(
      'INPUT_MEDIA_TYPE',
      media.path,
      `Media file ${media.path} has type ${media.mimeType}, which Gemini does not accept; convert it to PNG, JPEG, WEBP, PDF or text.`,
    );
  }
  // Text stays a text part; binaries at or above the threshold (or too big to inline) are uploaded.
  if (!isText && uploads && (size >= uploads.minBytes || size > MAX_MEDIA_PART_BYTES)) {
    if (size > MAX_UPLOADED_MEDIA_BYTES) {
      throw new MediaInputError(
        'INPUT_MEDIA_TOO_LARGE',
        media.path,
        `Media file ${media.path} is ${size} bytes, above the Files API's ${MAX_UPLOADED_MEDIA_BYTES}-byte limit; shrink or split it.`,
      );
    }
    const uploaded = await uploads.fileFor(media, file);
    return {
      part: { fileData: { fileUri: uploaded.fileUri, mimeType: uploaded.mimeType } },
      fileTokens: uploaded.estimatedTokens ?? uploadedFileTokens(media.mimeType, size),
    };
  }
  if (size > MAX_MEDIA_PART_BYTES) {
    const advice = isText
      ? 'shrink or split it'
      : 'shrink or split it, or set execution.media_upload_bytes to upload it';
    throw new MediaInputError(
      'INPUT_MEDIA_TOO_LARGE',
      media.path,
      `Media file ${media.path} is ${size} bytes, above the ${MAX_MEDIA_PART_BYTES}-byte inline limit; ${advice}.`,
    );
  }
  if (isText) return { part: { text: textOf(media.path, await read()) } };
  return { part: { inlineData: { mimeType: media.mimeType, data: (await read()).toString('base64') } } };
}

/** A text page, refused rather than silently altered when it is not UTF-8. */
function textOf(path: string, bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  throw new MediaInputError(
    'INPUT_MEDIA_ENCODING',
    path,
    `Text file ${path} is not valid UTF-8 (byte ${invalidUtf8Offset(bytes)}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8).`,
  );
}

/**
 * An upload whose reference carries no count: an image (or a PDF) one tile, audio and video by
 * their size at an assumed byte rate (128 kbit/s, 2 Mbit/s), other binaries ~1 token per 3 bytes.
 * The uploader counts images by their size and PDFs by their pages (content-facts.ts).
 */
function uploadedFileTokens(mimeType: string, size: number): number {
  const timed = timedMediaKind(mimeType);
  if (timed) return timedMediaTokensOfSize(timed, size);
  return mimeType.startsWith('image/') || mimeType === 'application/pdf'
    ? TOKENS_PER_IMAGE
    : Math.ceil(size / 3);
}

/** The generationConfig as sent on the wire, with the response schema folded in. */
function wireGenerationConfig(request: ModelRequest): Record<string, unknown> | undefined {
  const config = { ...(request.generationConfig ?? {}) };
  if (request.responseJsonSchema !== undefined) {
    config.responseMimeType ??= 'application/json';
    config.responseJsonSchema = request.responseJsonSchema;
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

/**
 * The REST body of a GenerateContentRequest, as the SDK's converters would send it:
 * `{contents, systemInstruction: {role: 'user', parts: [{text}]}, generationConfig}`.
 */
export function toWireRequest(request: ModelRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { contents: request.contents };
  // Same Content shape the SDK's converter produces for a string system instruction.
  if (request.systemInstruction)
    body.systemInstruction = { role: 'user', parts: [{ text: request.systemInstruction }] };
  const generationConfig = wireGenerationConfig(request);
  if (generationConfig) body.generationConfig = generationConfig;
  return body;
}

/**
 * One line of a batch input file (without the newline): `{"key", "request": {...}}`, the bytes
 * `JSON.stringify({ key, request: toWireRequest(request) })` gives, written piece by piece so that
 * the generationConfig and its response schema, the same for every request of a run, are
 * serialised once (`wireConfigJson`) rather than once per line.
 */
export function toBatchFileLine(key: string, request: ModelRequest): string {
  const system = request.systemInstruction
    ? `,"systemInstruction":${JSON.stringify({ role: 'user', parts: [{ text: request.systemInstruction }] })}`
    : '';
  const config = wireConfigJson(request);
  const generationConfig = config === undefined ? '' : `,"generationConfig":${config}`;
  return `{"key":${JSON.stringify(key)},"request":{"contents":${JSON.stringify(request.contents)}${system}${generationConfig}}}`;
}

/** The JSON of each wire generationConfig, by the request's config object, then by its schema object. */
const wireConfigJsons = new WeakMap<object, WeakMap<object, string>>();

/**
 * JSON of `wireGenerationConfig(request)`, kept by the identity of the request's config and schema:
 * neither is changed once a request is built from it (buildModelRequest's configs are frozen, and a
 * lane that changes one makes a new object), so the same pair always serialises alike.
 */
function wireConfigJson(request: ModelRequest): string | undefined {
  const config = request.generationConfig;
  const schema = request.responseJsonSchema;
  if (config === undefined || typeof schema !== 'object' || schema === null) {
    const wire = wireGenerationConfig(request);
    return wire === undefined ? undefined : JSON.stringify(wire);
  }
  let bySchema = wireConfigJsons.get(config);
  if (!bySchema) {
    bySchema = new WeakMap();
    wireConfigJsons.set(config, bySchema);
  }
  let json = bySchema.get(schema);
  if (json === undefined) {
    json = JSON.stringify(wireGenerationConfig(request));
    bySchema.set(schema, json);
  }
  return json;
}

/** The SDK's GenerateContentConfig for the request (system instruction and schema included). */
export function toGenerateContentConfig(request: ModelRequest): GenerateContentConfig {
  const config: GenerateContentConfig = { ...(wireGenerationConfig(request) ?? {}) };
  if (request.systemInstruction) config.systemInstruction = request.systemInstruction;
  return config;
}

/**
 * The SDK's InlinedRequest. The key travels in `metadata.key`; the server echoes the metadata on
 * each inlined response, and results are matched by that key, never by position.
 */
export function toInlinedRequest(key: string, request: ModelRequest): InlinedRequest {
  const config = toGenerateContentConfig(request);
  return {
    contents: request.contents,
    metadata: { key },
    ...(Object.keys(config).length > 0 ? { config } : {}),
  };
}

export { TOKENS_PER_IMAGE };

/**
 * A cheap local token estimate: 1 token per 4 characters of text (system instruction included),
 * an image as Google counts it (258, or 258 per tile of a large one, its size read from its header),
 * 258 per PDF page (pages counted from `/Type /Page` markers; only those a part's documentMetadata
 * names), audio at 32 and video at 263 tokens
 * a second (the length read from WAV, MP3 or MP4 headers, as the emulator reads it; only the clip a
 * part's videoMetadata or audioMetadata names, a video at its fps), and 1 token per
 * 4 base64 characters for other binaries; uploaded files count `fileTokens` (or 258 each when
 * unknown). Only for planning; calibrate with countTokens or usage.
 */
export function estimateTokens(request: ModelRequest): number {
  return estimateTokenShares(request).tokens;
}

/**
 * `estimateTokens`, and how many of them are audio (inline audio parts and uploaded audio files):
 * Google bills a prompt's audio at the model's audio rate (`audioInput`, e.g. 2.5 Flash $1.00
 * against $0.30 for text), so a cost is priced from both (`requestCost`'s `audioInputTokens`).
 */
export function estimateTokenShares(request: ModelRequest): { tokens: number; audioTokens: number } {
  let chars = request.systemInstruction?.length ?? 0;
  let tokens = request.fileTokens ?? 0;
  let audioTokens = request.fileAudioTokens ?? 0;
  for (const content of request.contents) {
    for (const part of content.parts ?? []) {
      if (part.text) chars += part.text.length;
      if (part.fileData && request.fileTokens === undefined) tokens += TOKENS_PER_IMAGE;
      const data = part.inlineData?.data;
      if (!data) continue;
      const mime = part.inlineData?.mimeType ?? '';
      const timed = timedMediaKind(mime);
      if (mime.startsWith('image/')) tokens += imageTokens(base64Head(data, IMAGE_HEAD_BYTES));
      else if (mime === 'application/pdf')
        tokens += documentTokens(pdfPageCount(data), part.documentMetadata);
      else if (timed) {
        const timedTokens = timedMediaTokens(
          timed,
          Buffer.from(data, 'base64'),
          timed === 'video' ? part.videoMetadata : part.audioMetadata,
        );
        tokens += timedTokens;
        if (timed === 'audio') audioTokens += timedTokens;
      } else tokens += Math.ceil(data.length / 4);
    }
  }
  if (request.responseJsonSchema !== undefined) chars += schemaJsonLength(request.responseJsonSchema);
  return { tokens: tokens + Math.ceil(chars / 4), audioTokens };
}

/** Characters of each response schema's JSON, by schema object: a run's requests share one schema. */
const schemaLengths = new WeakMap<object, number>();

function schemaJsonLength(schema: unknown): number {
  if (typeof schema !== 'object' || schema === null) return (JSON.stringify(schema) ?? '').length;
  let length = schemaLengths.get(schema);
  if (length === undefined) {
    length = JSON.stringify(schema).length;
    schemaLengths.set(schema, length);
  }
  return length;
}

/** The first `bytes` bytes of base64 data, decoded without decoding the rest. */
function base64Head(base64: string, bytes: number): Buffer {
  return Buffer.from(base64.slice(0, Math.ceil(bytes / 3) * 4), 'base64');
}

function pdfPageCount(base64: string): number {
  return pdfPagesIn(Buffer.from(base64, 'base64').toString('latin1'));
}

/** Normalizes snake_case keys (as written in YAML configs) to camelCase; nested config objects too, schemas untouched. */
function camelKeys(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const camel = key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
    const nested =
      camel.endsWith('Config') && typeof value === 'object' && value !== null && !Array.isArray(value);
    out[camel] = nested ? camelKeys(value as Record<string, unknown>) : value;
  }
  return out;
}
