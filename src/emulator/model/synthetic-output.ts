import { promptDigest } from './digest.js';
import { sampleJsonSchema } from './json-schema-sample.js';
import { openApiToJsonSchema } from './openapi-schema.js';
import { contentRandom, pick } from '../seeded-random.js';
import {
  promptTextOf,
  responseFormatOf,
  type ResponseFormat,
  type WireGenerateRequest,
} from './wire-request.js';

/** What the synthetic model writes for a request, and what it was asked for. */
export interface SyntheticOutput {
  text: string;
  digest: string;
  format: ResponseFormat;
  /** True when the request asked for JSON (so broken JSON is a fault). */
  json: boolean;
}

/** The response format of a request, with an OpenAPI responseSchema converted to JSON Schema. */
export function formatOf(request: WireGenerateRequest): ResponseFormat {
  return responseFormatOf(request, openApiToJsonSchema);
}

function enumMembers(schema: unknown): unknown[] | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const members = (schema as { enum?: unknown }).enum;
  return Array.isArray(members) && members.length > 0 ? members : undefined;
}

/**
 * The synthetic model's natural output, deterministic per (model, request, seed): JSON that
 * validates against the response schema, a plain enum member for text/x.enum, or the text
 * "synthetic answer <digest>: <first 80 chars of prompt>".
 */
export function syntheticOutput(model: string, request: WireGenerateRequest, seed: number): SyntheticOutput {
  const promptText = promptTextOf(request);
  const digest = promptDigest(promptText);
  const format = formatOf(request);
  // 'models/x' and 'x' are the same model, so they draw the same output.
  const random = contentRandom(seed, `${model.replace(/^models\//, '')}\u0000${JSON.stringify(request)}`);
  const plain = `synthetic answer ${digest}: ${promptText.slice(0, 80)}`;
  if (format.mimeType === 'text/x.enum') {
    const members = enumMembers(format.jsonSchema);
    return { text: members ? String(pick(random, members)) : plain, digest, format, json: false };
  }
  if (format.mimeType !== 'application/json') return { text: plain, digest, format, json: false };
  const value =
    format.jsonSchema === undefined ? { text: plain } : sampleJsonSchema(format.jsonSchema, digest, random);
  return { text: JSON.stringify(value), digest, format, json: true };
}
