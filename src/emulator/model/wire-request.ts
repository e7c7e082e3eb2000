import type { MediaClip, PageRange } from '../../media/media-tokens.js';
import { isJsonObject } from '../json-object.js';

/** The wire GenerateContentRequest as the REST API receives it (camelCase JSON). */
export interface WireGenerateRequest {
  contents?: unknown;
  systemInstruction?: unknown;
  generationConfig?: Record<string, unknown>;
  [k: string]: unknown;
}

/** One content part as sent on the wire; only the fields the emulator reads. */
export interface WirePart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  /** A video's clip and frame rate (Part.videoMetadata), its fields under either spelling. */
  videoMetadata?: MediaClip;
  /** An audio's clip (Part.audioMetadata). */
  audioMetadata?: MediaClip;
  /** A document's pages (Part.documentMetadata). */
  documentMetadata?: PageRange;
}

/** The response format a request asks for. */
export interface ResponseFormat {
  /** responseMimeType, lower-cased; 'text/plain' when absent. */
  mimeType: string;
  /** A JSON Schema (responseJsonSchema, or responseSchema converted from OpenAPI style), when given. */
  jsonSchema: unknown;
  /** The OpenAPI-style responseSchema as sent, when given (kept for text/x.enum). */
  openApiSchema: unknown;
  maxOutputTokens: number | undefined;
  /** generationConfig.candidateCount: how many candidates to return; 1 when absent. */
  candidateCount: number;
}

/**
 * Reads a field by its camelCase name or its snake_case twin: the REST API accepts both (proto
 * JSON), and batch input files written by other tools often use snake_case.
 */
export function fieldOf(record: Record<string, unknown>, camel: string): unknown {
  if (camel in record) return record[camel];
  const snake = camel.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  return record[snake];
}

function toPart(value: unknown): WirePart | undefined {
  if (typeof value === 'string') return { text: value };
  if (!isJsonObject(value)) return undefined;
  const part: WirePart = {};
  if (typeof value.text === 'string') part.text = value.text;
  const inline = fieldOf(value, 'inlineData');
  if (isJsonObject(inline) && typeof inline.data === 'string') {
    const mimeType = fieldOf(inline, 'mimeType');
    part.inlineData = {
      mimeType: typeof mimeType === 'string' ? mimeType : 'application/octet-stream',
      data: inline.data,
    };
  }
  const file = fieldOf(value, 'fileData');
  if (isJsonObject(file)) {
    const mimeType = fieldOf(file, 'mimeType');
    const fileUri = fieldOf(file, 'fileUri');
    part.fileData = {
      mimeType: typeof mimeType === 'string' ? mimeType : 'application/octet-stream',
      fileUri: typeof fileUri === 'string' ? fileUri : '',
    };
  }
  const video = clipOf(fieldOf(value, 'videoMetadata'));
  if (video) part.videoMetadata = video;
  const audio = clipOf(fieldOf(value, 'audioMetadata'));
  if (audio) part.audioMetadata = audio;
  const pages = fieldOf(value, 'documentMetadata');
  if (isJsonObject(pages))
    part.documentMetadata = { startPage: fieldOf(pages, 'startPage'), endPage: fieldOf(pages, 'endPage') };
  return part;
}

function clipOf(metadata: unknown): MediaClip | undefined {
  if (!isJsonObject(metadata)) return undefined;
  return {
    startOffset: fieldOf(metadata, 'startOffset'),
    endOffset: fieldOf(metadata, 'endOffset'),
    fps: metadata.fps,
  };
}

/** Flattens a Content, a list of Contents, a list of Parts, a Part or a string into parts. */
function partsOfContent(value: unknown): WirePart[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item) => partsOfContent(item));
  if (isJsonObject(value) && Array.isArray(value.parts))
    return value.parts.map(toPart).filter((part) => part !== undefined);
  const part = toPart(value);
  return part ? [part] : [];
}

/** The system instruction's parts, then the contents' parts, in order. */
export function partsOf(request: WireGenerateRequest): WirePart[] {
  const record = request as Record<string, unknown>;
  return [...partsOfContent(fieldOf(record, 'systemInstruction')), ...partsOfContent(record.contents)];
}

/** Text of the request: systemInstruction parts then contents parts, joined with '\n'. */
export function promptTextOf(request: WireGenerateRequest): string {
  return partsOf(request)
    .flatMap((part) => (part.text === undefined ? [] : [part.text]))
    .join('\n');
}

/** The generationConfig, read under either spelling. */
export function generationConfigOf(request: WireGenerateRequest): Record<string, unknown> {
  const config = fieldOf(request as Record<string, unknown>, 'generationConfig');
  return isJsonObject(config) ? config : {};
}

/** The response schema as sent: JSON Schema (either field name) or OpenAPI style, each absent when not sent. */
export function responseSchemasOf(request: WireGenerateRequest): {
  jsonSchema: unknown;
  openApiSchema: unknown;
} {
  const config = generationConfigOf(request);
  return {
    jsonSchema: fieldOf(config, 'responseJsonSchema') ?? fieldOf(config, '_responseJsonSchema'),
    openApiSchema: fieldOf(config, 'responseSchema'),
  };
}

/** Reads the response format from generationConfig (camelCase or snake_case). */
export function responseFormatOf(
  request: WireGenerateRequest,
  toJsonSchema: (openApi: unknown) => unknown,
): ResponseFormat {
  const config = generationConfigOf(request);
  const mime = fieldOf(config, 'responseMimeType');
  const { jsonSchema, openApiSchema } = responseSchemasOf(request);
  const maxTokens = Number(fieldOf(config, 'maxOutputTokens'));
  const candidates = Number(fieldOf(config, 'candidateCount'));
  return {
    mimeType: typeof mime === 'string' && mime.length > 0 ? mime.toLowerCase() : 'text/plain',
    jsonSchema: jsonSchema ?? (openApiSchema === undefined ? undefined : toJsonSchema(openApiSchema)),
    openApiSchema,
    maxOutputTokens: Number.isInteger(maxTokens) && maxTokens > 0 ? maxTokens : undefined,
    candidateCount: Number.isInteger(candidates) && candidates > 1 ? candidates : 1,
  };
}
