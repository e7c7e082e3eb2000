import { catalogModel, inputTokenLimitOf, thinkingRefusal, type WireGenerateRequest } from './model/index.js';
import { GoogleError, invalidArgument, unknownFields } from './google-error.js';
import { isJsonObject } from './json-object.js';
import { unknownRequestFields } from './request-fields.js';

/**
 * The model a call names, as the catalog lists it; any other name is Google's 404 in its words
 * (`models/x is not found for API version v1beta, or is not supported for generateContent. ...`).
 */
export function requireModel(
  model: string,
  method: string,
  version: string,
  extraModels: readonly string[],
): string {
  const found = catalogModel(model, extraModels);
  if (!found) {
    throw new GoogleError(
      'NOT_FOUND',
      `models/${model.replace(/^models\//, '')} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
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
  const noContents = missingContents(body, what);
  if (noContents) return noContents;
  const thinking = catalogModel(model)?.thinking ?? 'none';
  const budget = thinkingRefusal(thinking, body as WireGenerateRequest);
  return budget === undefined ? undefined : invalidArgument(budget);
}

/**
 * Google's 400 for a GenerateContentRequest without contents (none, or an empty list), its field
 * path in `what`: `* GenerateContentRequest.contents: contents is not specified`.
 */
export function missingContents(request: Record<string, unknown>, what: string): GoogleError | undefined {
  const contents = request.contents;
  return Array.isArray(contents) && contents.length > 0
    ? undefined
    : invalidArgument(`* ${what}.contents: contents is not specified`);
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
