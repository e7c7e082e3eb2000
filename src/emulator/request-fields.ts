import type { UnknownField } from './google-error.js';
import { GENERATION_CONFIG_FIELDS, THINKING_CONFIG_FIELDS } from '../gemini/generation-config-fields.js';
import { isJsonObject } from './json-object.js';

/*
 * The fields Google's JSON parser knows in a GenerateContentRequest, where a typo (`temprature`)
 * lands most often: the request itself, generationConfig and its thinkingConfig, each Content and
 * each Part. Google refuses an unknown name with 400 INVALID_ARGUMENT naming it; so does the
 * emulator. The lists hold every field @google/genai 3.x sends in Gemini Developer API mode (its
 * generateContentConfigToMldev, contentToMldev and partToMldev converters) and the REST reference's
 * own; proto JSON accepts each in camelCase or snake_case. Deeper objects (tools, schemas, safety
 * settings, speech and image configs) are not checked.
 */

const REQUEST_FIELDS = [
  'model',
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'safetySettings',
  'cachedContent',
  'generationConfig',
  'labels',
  // SDK 3.x sends GenerateContentConfig.serviceTier at the top level of the request.
  'serviceTier',
  'store',
  'continuationToken',
] as const;

const CONTENT_FIELDS = ['role', 'parts'] as const;

const PART_FIELDS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
  'thought',
  'thoughtSignature',
  'videoMetadata',
  'partMetadata',
  'mediaResolution',
  'toolCall',
  'toolResponse',
  'audioTranscription',
  'mediaProcessing',
  'speechMetadata',
  // SDK 3.6 sends these media metadata (page range, cell range, audio clip) as given.
  'documentMetadata',
  'spreadsheetMetadata',
  'audioMetadata',
] as const;

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function known(fields: readonly string[]): ReadonlySet<string> {
  return new Set(fields.flatMap((field) => [field, snake(field)]));
}

const REQUEST = known(REQUEST_FIELDS);
const GENERATION_CONFIG = known(GENERATION_CONFIG_FIELDS);
const THINKING_CONFIG = known(THINKING_CONFIG_FIELDS);
const CONTENT = known(CONTENT_FIELDS);
const PART = known(PART_FIELDS);

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function unknownIn(value: unknown, fields: ReadonlySet<string>, at: string): UnknownField[] {
  if (!isJsonObject(value)) return [];
  return Object.keys(value)
    .filter((name) => !fields.has(name))
    .map((name) => ({ name, at }));
}

function contentFields(value: unknown, at: string): UnknownField[] {
  if (!isJsonObject(value)) return [];
  const found = unknownIn(value, CONTENT, at);
  const parts = value.parts;
  if (Array.isArray(parts))
    parts.forEach((part, index) => found.push(...unknownIn(part, PART, `${at}.parts[${index}]`)));
  return found;
}

/**
 * Every field of a GenerateContentRequest that Google's parser would not know, with its place as
 * Google names it (snake_case, e.g. `generation_config.thinking_config`); `prefix` places the
 * request inside a larger body (an inline batch request).
 */
export function unknownRequestFields(request: Record<string, unknown>, prefix = ''): UnknownField[] {
  const found = unknownIn(request, REQUEST, prefix);
  const contents = request.contents;
  if (Array.isArray(contents))
    contents.forEach((content, index) =>
      found.push(...contentFields(content, join(prefix, `contents[${index}]`))),
    );
  const system = request.systemInstruction ?? request.system_instruction;
  found.push(...contentFields(system, join(prefix, 'system_instruction')));
  const config = request.generationConfig ?? request.generation_config;
  const configAt = join(prefix, 'generation_config');
  found.push(...unknownIn(config, GENERATION_CONFIG, configAt));
  if (isJsonObject(config)) {
    const thinking = config.thinkingConfig ?? config.thinking_config;
    found.push(...unknownIn(thinking, THINKING_CONFIG, `${configAt}.thinking_config`));
  }
  return found;
}

/*
 * The create body of `batchGenerateContent`: `{batch: GenerateContentBatch}` (the REST reference's
 * fields, output-only ones included, which the parser knows and ignores; `webhookConfig` as SDK 3.x
 * sends it), its `inputConfig` and each inline item. Google refuses an unknown name anywhere in it.
 */
const CREATE_BODY = known(['batch']);
const BATCH = known([
  'model',
  'name',
  'displayName',
  'inputConfig',
  'output',
  'createTime',
  'endTime',
  'updateTime',
  'batchStats',
  'state',
  'priority',
  'webhookConfig',
]);
const INPUT_CONFIG = known(['fileName', 'requests']);
const INLINED_REQUESTS = known(['requests']);
const INLINED_REQUEST = known(['request', 'metadata']);

/**
 * Every field of a `batchGenerateContent` body Google's parser would not know, outside the inline
 * requests themselves (unknownRequestFields checks those), with its place as Google names it.
 */
export function unknownBatchFields(body: Record<string, unknown>): UnknownField[] {
  const found = unknownIn(body, CREATE_BODY, '');
  const batch = body.batch;
  found.push(...unknownIn(batch, BATCH, 'batch'));
  if (!isJsonObject(batch)) return found;
  const inputConfig = batch.inputConfig ?? batch.input_config;
  found.push(...unknownIn(inputConfig, INPUT_CONFIG, 'batch.input_config'));
  if (!isJsonObject(inputConfig)) return found;
  const requests = inputConfig.requests;
  found.push(...unknownIn(requests, INLINED_REQUESTS, 'batch.input_config.requests'));
  const items = isJsonObject(requests) ? requests.requests : undefined;
  if (Array.isArray(items))
    items.forEach((item, index) =>
      found.push(...unknownIn(item, INLINED_REQUEST, `batch.input_config.requests.requests[${index}]`)),
    );
  return found;
}

/**
 * A `countTokens` body takes `contents` or a whole `generateContentRequest`, nothing else: a
 * top-level `systemInstruction`, `tools` or `generationConfig` is an unknown name to Google (the SDK
 * refuses them before sending, contract §7).
 */
const COUNT_TOKENS = known(['contents', 'generateContentRequest']);

/** The top-level fields of a countTokens body Google's parser would not know. */
export function unknownCountTokensFields(body: Record<string, unknown>): UnknownField[] {
  return unknownIn(body, COUNT_TOKENS, '');
}
