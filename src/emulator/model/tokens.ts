import { pdfPagesIn } from '../../media/content-facts.js';
import { documentTokens, imageTokens, timedMediaTokens, TOKENS_PER_IMAGE } from '../../media/media-tokens.js';
import { partsOf, responseSchemasOf, type WireGenerateRequest, type WirePart } from './wire-request.js';

export { TOKENS_PER_IMAGE };

/** Modalities as named in usageMetadata.promptTokensDetails. */
export type Modality = 'TEXT' | 'IMAGE' | 'DOCUMENT' | 'AUDIO' | 'VIDEO';

/** The bytes behind a fileData part, when the caller (the server's file store) knows them. */
export type FileResolver = (fileUri: string) => { mimeType: string; data: Uint8Array } | undefined;

/** Tokens of a text: 1 per 4 characters, rounded up (Gemini's documented rule of thumb). */
export function countTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Pages of a PDF, counted as wavebatch's uploader and estimate count them (pdfPagesIn); at least 1. */
function pdfPageCount(bytes: Uint8Array): number {
  return pdfPagesIn(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}

function modalityOf(mimeType: string): Modality {
  if (mimeType.startsWith('image/')) return 'IMAGE';
  if (mimeType === 'application/pdf') return 'DOCUMENT';
  if (mimeType.startsWith('audio/')) return 'AUDIO';
  if (mimeType.startsWith('video/')) return 'VIDEO';
  return 'TEXT';
}

/**
 * Tokens and modality of one binary part, from its bytes (an image's header for its size). Without
 * bytes (an unknown file) it counts as one image or page.
 */
function mediaTokens(
  mimeType: string,
  bytes: () => Uint8Array | undefined,
  clips: Pick<WirePart, 'videoMetadata' | 'audioMetadata' | 'documentMetadata'>,
): { modality: Modality; tokens: number; chars: number } {
  const modality = modalityOf(mimeType);
  const data = bytes();
  if (modality === 'IMAGE') return { modality, tokens: imageTokens(data), chars: 0 };
  // A PDF is 258 tokens a page, over the pages its documentMetadata names.
  if (modality === 'DOCUMENT')
    return {
      modality,
      tokens: documentTokens(data ? pdfPageCount(data) : 1, clips.documentMetadata),
      chars: 0,
    };
  // Audio and video are billed by the second (32 and 263 tokens), their length read from the headers;
  // only over their clip (videoMetadata's or audioMetadata's offsets), a video at its frame rate.
  if (data && (modality === 'AUDIO' || modality === 'VIDEO'))
    return {
      modality,
      tokens:
        modality === 'AUDIO'
          ? timedMediaTokens('audio', data, clips.audioMetadata)
          : timedMediaTokens('video', data, clips.videoMetadata),
      chars: 0,
    };
  // Text sent as a file is billed like text; other binaries have no cheap exact rule, so ~1 token / 4 bytes.
  if (mimeType.startsWith('text/') && data)
    return { modality: 'TEXT', tokens: 0, chars: Buffer.from(data).toString('utf8').length };
  return { modality, tokens: data ? Math.ceil(data.byteLength / 4) : TOKENS_PER_IMAGE, chars: 0 };
}

function partTokens(
  part: WirePart,
  resolveFile: FileResolver | undefined,
): { modality: Modality; tokens: number; chars: number } | undefined {
  const inline = part.inlineData;
  if (inline) return mediaTokens(inline.mimeType, () => Buffer.from(inline.data, 'base64'), part);
  const file = part.fileData;
  if (file) {
    const resolved = resolveFile?.(file.fileUri);
    return mediaTokens(resolved?.mimeType ?? file.mimeType, () => resolved?.data, part);
  }
  return undefined;
}

/** Prompt tokens per modality (only modalities present), as promptTokensDetails reports them. */
export function requestTokenDetails(
  request: WireGenerateRequest,
  resolveFile?: FileResolver,
): Array<{ modality: Modality; tokenCount: number }> {
  let chars = 0;
  const byModality = new Map<Modality, number>();
  for (const part of partsOf(request)) {
    if (part.text !== undefined) chars += part.text.length;
    const media = partTokens(part, resolveFile);
    if (!media) continue;
    chars += media.chars;
    if (media.tokens > 0)
      byModality.set(media.modality, (byModality.get(media.modality) ?? 0) + media.tokens);
  }
  // The response schema is input too: "the size of the response schema counts toward the input
  // token limit" (Firebase AI Logic, structured output), billed like the prompt's text.
  chars += schemaChars(request);
  // Text is counted over all characters at once, like a tokenizer over the concatenated prompt.
  const textTokens = Math.ceil(chars / 4);
  const details: Array<{ modality: Modality; tokenCount: number }> = [];
  if (textTokens > 0) details.push({ modality: 'TEXT', tokenCount: textTokens });
  for (const [modality, tokenCount] of byModality) {
    const text = details.find((detail) => detail.modality === modality);
    if (text) text.tokenCount += tokenCount;
    else details.push({ modality, tokenCount });
  }
  return details;
}

/** Deterministic token count of a request (text ≈ 1 token / 4 chars, 258 per image / PDF page, as Gemini bills). */
export function countRequestTokens(request: WireGenerateRequest, resolveFile?: FileResolver): number {
  return requestTokenDetails(request, resolveFile).reduce((sum, detail) => sum + detail.tokenCount, 0);
}

/** Characters of the request's response schema as sent (JSON Schema or OpenAPI style), 0 without one. */
function schemaChars(request: WireGenerateRequest): number {
  const { jsonSchema, openApiSchema } = responseSchemasOf(request);
  const schema = jsonSchema ?? openApiSchema;
  return schema === undefined || schema === null ? 0 : (JSON.stringify(schema)?.length ?? 0);
}
