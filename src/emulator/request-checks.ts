import { catalogModel, inputTokenLimitOf, thinkingRefusal, type WireGenerateRequest } from './model/index.js';
import { bareModelName } from './model/catalog.js';
import { fieldOf, generationConfigOf } from './model/wire-request.js';
import { GoogleError, invalidArgument, unknownFields } from './google-error.js';
import { isJsonObject } from './json-object.js';
import { unknownRequestFields } from './request-fields.js';
import { withoutMethod, type EmulatorContext } from './http-context.js';

/**
 * The model a `models/{model}:{method}` route names, as the catalog lists it; any other name is
 * Google's 404 in its words (`models/x is not found for API version v1beta, or is not supported for
 * generateContent. ...`).
 */
export function requireModel(c: EmulatorContext, method: string, extraModels: readonly string[]): string {
  const model = withoutMethod(c.req.param('model') ?? '');
  const found = catalogModel(model, extraModels);
  if (!found) {
    throw new GoogleError(
      'NOT_FOUND',
      `models/${model.replace(/^models\//, '')} is not found for API version ${c.req.param('version') ?? ''}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    );
  }
  return found.name;
}

/**
 * Why Google would refuse this GenerateContentRequest outright (unknown fields, no contents, a
 * thinking budget the model cannot take), or undefined; `prefix` places it in a larger body.
 */
export function requestRefusal(
  body: unknown,
  what: string,
  model: string,
  prefix = '',
): GoogleError | undefined {
  if (!isJsonObject(body)) return invalidArgument(`* ${what}: the request must be a JSON object`);
  const unknown = unknownRequestFields(body, prefix);
  if (unknown.length > 0) return unknownFields(unknown);
  const badContents = contentsRefusal(body, what);
  if (badContents) return badContents;
  const budget = thinkingRefusal(model, body as WireGenerateRequest);
  return budget === undefined ? undefined : invalidArgument(budget);
}

/**
 * Google's 400 for a GenerateContentRequest whose contents it cannot take, its field path in `what`:
 * none or an empty list (`* GenerateContentRequest.contents: contents is not specified`); a Content
 * without parts, or a Part with no data (`* GenerateContentRequest.contents[1].parts: contents.parts
 * must not be empty.`, `* ….parts[0].data: required oneof field 'data' must have one initialized
 * field`, one line each, as its validator lists them: chatwise-releases#250, vercel/ai#3775,
 * genkit#3816); a role other than user or model ("Please use a valid role: user, model.").
 */
export function contentsRefusal(request: Record<string, unknown>, what: string): GoogleError | undefined {
  const contents = request.contents;
  if (!Array.isArray(contents) || contents.length === 0)
    return invalidArgument(`* ${what}.contents: contents is not specified`);
  const violations: string[] = [];
  let badRole = false;
  contents.forEach((content: unknown, index) => {
    const parts = isJsonObject(content) ? content.parts : undefined;
    if (!Array.isArray(parts) || parts.length === 0) {
      violations.push(`* ${what}.contents[${index}].parts: contents.parts must not be empty.\n`);
    } else {
      parts.forEach((part: unknown, at) => {
        if (!hasPartData(part))
          violations.push(
            `* ${what}.contents[${index}].parts[${at}].data: required oneof field 'data' must have one initialized field\n`,
          );
      });
    }
    const role = isJsonObject(content) ? content.role : undefined;
    if (role !== undefined && role !== '' && role !== 'user' && role !== 'model') badRole = true;
  });
  if (violations.length > 0) return invalidArgument(violations.join(''));
  return badRole ? invalidArgument('Please use a valid role: user, model.') : undefined;
}

/**
 * A Part's fields outside its `data` oneof (text, inlineData, fileData, function calls and
 * responses, code, …), in camelCase and snake_case: a part of these alone carries no data.
 */
const PART_FIELDS_BESIDE_DATA = new Set([
  'thought',
  'thoughtSignature',
  'thought_signature',
  'videoMetadata',
  'video_metadata',
  'partMetadata',
  'part_metadata',
  'mediaResolution',
  'media_resolution',
  'speechMetadata',
  'speech_metadata',
  // SDK 3.6's media metadata, "specified while the … data is presented in inline_data or file_data".
  'documentMetadata',
  'document_metadata',
  'spreadsheetMetadata',
  'spreadsheet_metadata',
  'audioMetadata',
  'audio_metadata',
  'mediaProcessing',
  'media_processing',
]);

/** Whether a Part sets any field of its `data` oneof (any field not known to lie beside it). */
function hasPartData(part: unknown): boolean {
  return (
    isJsonObject(part) &&
    Object.entries(part).some(([name, value]) => value !== undefined && !PART_FIELDS_BESIDE_DATA.has(name))
  );
}

/** The body as a GenerateContentRequest, or Google's 400 (see requestRefusal). */
export function generateRequestOf(body: unknown, what: string, model: string): WireGenerateRequest {
  const refusal = requestRefusal(body, what, model);
  if (refusal) throw refusal;
  return body as WireGenerateRequest;
}

/**
 * Google's 400 for a prompt over the model's input token limit, or undefined; `inputTokens` is the
 * count the request would be billed (countRequestTokens). Its words, as the API answers
 * (gemini-cli#4231, #6678): "The input token count (1200293) exceeds the maximum number of tokens
 * allowed (1048576)."
 */
export function inputTokenRefusal(model: string, inputTokens: number): GoogleError | undefined {
  const limit = inputTokenLimitOf(model);
  if (inputTokens <= limit) return undefined;
  return invalidArgument(
    `The input token count (${inputTokens}) exceeds the maximum number of tokens allowed (${limit}).`,
  );
}

/**
 * Google's 400 for function declarations beside `responseMimeType: application/json` on a Gemini 2.x
 * model, unless function calling is switched off (`toolConfig.functionCallingConfig.mode: NONE`):
 * "Function calling with a response mime type: 'application/json' is unsupported", as 2.5 Flash,
 * 2.5 Flash-Lite and 2.5 Pro answer it (analyticalrohit/ai-blog-generator#16 and #17,
 * google/adk-python#5735 where mode NONE went through, symfony/ai#1777). Gemini 3 models are left
 * alone: they take structured output with tools.
 */
export function functionCallingRefusal(model: string, request: WireGenerateRequest): GoogleError | undefined {
  if (!bareModelName(model).startsWith('gemini-2')) return undefined;
  const mimeType = fieldOf(generationConfigOf(request), 'responseMimeType');
  if (typeof mimeType !== 'string' || mimeType.toLowerCase() !== 'application/json') return undefined;
  const record = request as Record<string, unknown>;
  const tools = record.tools;
  const declaresFunctions =
    Array.isArray(tools) &&
    tools.some((tool: unknown) => {
      const declarations = isJsonObject(tool) ? fieldOf(tool, 'functionDeclarations') : undefined;
      return Array.isArray(declarations) && declarations.length > 0;
    });
  if (!declaresFunctions) return undefined;
  const toolConfig = fieldOf(record, 'toolConfig');
  const calling = isJsonObject(toolConfig) ? fieldOf(toolConfig, 'functionCallingConfig') : undefined;
  const mode = isJsonObject(calling) ? calling.mode : undefined;
  if (typeof mode === 'string' && mode.toUpperCase() === 'NONE') return undefined;
  return invalidArgument("Function calling with a response mime type: 'application/json' is unsupported");
}
