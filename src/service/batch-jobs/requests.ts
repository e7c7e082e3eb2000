import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { InlinedRequest } from '@google/genai';
import { OneoffInputError } from './errors.js';
import { describeError } from '../../errors.js';

/** One request of a submit file, in REST wire form (`{contents, systemInstruction?, generationConfig?, ...}`). */
export interface KeyedRequest {
  key: string;
  request: Record<string, unknown>;
  /** Where it was read, for messages: `file.jsonl:3` or `file.json item 3`. */
  where: string;
}

/** Top-level fields of a REST GenerateContentRequest that a batch request may carry (camelCase, as on the wire). */
const REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'contents',
  'systemInstruction',
  'generationConfig',
  'safetySettings',
  'tools',
  'toolConfig',
  'cachedContent',
  'labels',
]);

/** The request fields the SDK takes from an inline request's `config` (the rest of REQUEST_FIELDS besides contents). */
const CONFIG_FIELDS = [
  'systemInstruction',
  'safetySettings',
  'tools',
  'toolConfig',
  'cachedContent',
  'labels',
] as const;

/**
 * generationConfig fields the SDK's inline converter copies to the wire (@google/genai 3.x,
 * generateContentConfigToMldev); it drops any other silently, so such requests must be uploaded.
 */
const INLINE_GENERATION_FIELDS: ReadonlySet<string> = new Set([
  'temperature',
  'topP',
  'topK',
  'candidateCount',
  'maxOutputTokens',
  'stopSequences',
  'responseLogprobs',
  'logprobs',
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'mediaResolution',
  'speechConfig',
  'thinkingConfig',
  'audioTranscriptionConfig',
  'imageConfig',
  'enableEnhancedCivicAnswers',
]);

/**
 * Reads a submit file: `.jsonl` is one request per line, `{key?, request}` or a bare request;
 * anything else is JSON, an array of those or `{requests: [...]}`. Missing keys become
 * `request-<n>` (1-based position); keys must be unique.
 */
export async function readSubmitFile(path: string): Promise<KeyedRequest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new OneoffInputError(`Cannot read ${path}; check the path.`);
  }
  const items: Array<{ value: unknown; where: string }> = [];
  if (extname(path).toLowerCase() === '.jsonl') {
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const where = `${path}:${index + 1}`;
      items.push({ value: parseJson(line, where), where });
    });
  } else {
    const parsed = parseJson(text, path);
    const list = Array.isArray(parsed)
      ? parsed
      : isObject(parsed) && Array.isArray(parsed.requests)
        ? parsed.requests
        : null;
    if (!list)
      throw new OneoffInputError(`${path} must hold a JSON array of requests or {"requests": [...]}.`);
    list.forEach((value: unknown, index: number) =>
      items.push({ value, where: `${path} item ${index + 1}` }),
    );
  }
  if (items.length === 0) throw new OneoffInputError(`${path} holds no requests.`);
  return keyedRequests(items);
}

/**
 * Requests given by a program (`{key?, request}` or bare requests), checked as a submit file's are;
 * each named `requests[<index>]` in messages.
 */
export function keyedRequestList(requests: readonly unknown[]): KeyedRequest[] {
  if (requests.length === 0) throw new OneoffInputError('requests is empty: give at least one request.');
  return keyedRequests(requests.map((value, index) => ({ value, where: `requests[${index}]` })));
}

/** Each item as a keyed request; missing keys become `request-<n>`, a repeated key is refused. */
function keyedRequests(items: ReadonlyArray<{ value: unknown; where: string }>): KeyedRequest[] {
  const seen = new Set<string>();
  return items.map(({ value, where }, index) => {
    const keyed = toKeyed(value, where, index);
    if (seen.has(keyed.key))
      throw new OneoffInputError(
        `${where}: key ${JSON.stringify(keyed.key)} is used twice; keys must be unique.`,
      );
    seen.add(keyed.key);
    return keyed;
  });
}

function toKeyed(value: unknown, where: string, index: number): KeyedRequest {
  if (!isObject(value)) throw new OneoffInputError(`${where}: expected a JSON object.`);
  const wrapped = 'request' in value;
  const request = wrapped ? value.request : value;
  if (wrapped && value.key !== undefined && typeof value.key !== 'string') {
    throw new OneoffInputError(`${where}: "key" must be a string.`);
  }
  if (!isObject(request) || !Array.isArray(request.contents) || request.contents.length === 0) {
    throw new OneoffInputError(
      `${where}: a request needs a non-empty "contents" array, e.g. {"contents": [{"parts": [{"text": "Hi"}]}]}.`,
    );
  }
  const unknown = Object.keys(request).find((field) => !REQUEST_FIELDS.has(field));
  if (unknown !== undefined) {
    throw new OneoffInputError(
      `${where}: unknown request field ${JSON.stringify(unknown)}; a request may have ${[...REQUEST_FIELDS].join(', ')} (camelCase, as in the REST API).`,
    );
  }
  if (request.generationConfig !== undefined && !isObject(request.generationConfig)) {
    throw new OneoffInputError(`${where}: "generationConfig" must be an object, e.g. {"temperature": 0}.`);
  }
  const key =
    wrapped && typeof value.key === 'string' && value.key !== '' ? value.key : `request-${index + 1}`;
  return { key, request, where };
}

/**
 * Why these requests cannot be sent inline without losing a field (a generationConfig field the
 * SDK's inline converter does not know), or undefined when they can. Uploaded files go verbatim.
 */
export function inlineObstacle(items: readonly KeyedRequest[]): string | undefined {
  for (const item of items) {
    const config = isObject(item.request.generationConfig) ? item.request.generationConfig : {};
    const dropped = Object.keys(config).find((field) => !INLINE_GENERATION_FIELDS.has(field));
    if (dropped !== undefined)
      return `${item.where}: generationConfig.${dropped} cannot be sent inline by the SDK`;
  }
  return undefined;
}

/** The JSONL line of an uploaded batch input file. */
export function toInputLine(item: KeyedRequest): string {
  return JSON.stringify({ key: item.key, request: item.request });
}

/**
 * A wire request as the SDK's InlinedRequest: the SDK rebuilds the wire request from `config`,
 * which holds the generationConfig fields and the other top-level fields (system instruction,
 * safety settings, tools...), so every field must go there or it is lost.
 */
export function toSdkInlinedRequest(item: KeyedRequest): InlinedRequest {
  const { contents, generationConfig } = item.request;
  const config: Record<string, unknown> = { ...(isObject(generationConfig) ? generationConfig : {}) };
  for (const field of CONFIG_FIELDS) {
    if (item.request[field] !== undefined) config[field] = item.request[field];
  }
  return {
    contents: contents as InlinedRequest['contents'],
    metadata: { key: item.key },
    ...(Object.keys(config).length > 0 ? { config: config as InlinedRequest['config'] } : {}),
  };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = describeError(error);
    throw new OneoffInputError(`${where}: invalid JSON (${detail}).`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
