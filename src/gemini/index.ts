export { BATCH_INPUT_MIME_TYPE, createGeminiClient } from './client.js';
export { PLACEHOLDER_API_KEY } from './placeholder-key.js';
export { ClientApiKeyError } from './sdk-client.js';
export type {
  GeminiClient,
  GeminiClientOptions,
  RemoteFile,
  CreateBatchInput,
  BatchSource,
  GenerateOptions,
} from './client.js';
export type { BatchJobInfo, BatchJobState, InlinedResult } from './batch-job.js';
export { batchStateOf } from './batch-job.js';
export {
  GeminiApiError,
  inputTokensPerMinuteLimitOf,
  isEnqueuedTokenRefusal,
  isMissingFileError,
  payloadLimitOf,
  type GeminiErrorCode,
  type QuotaViolation,
} from './errors.js';
export {
  buildModelRequest,
  toBatchFileLine,
  toInlinedRequest,
  toWireRequest,
  estimateTokens,
  estimateTokenShares,
  MediaInputError,
  MAX_MEDIA_PART_BYTES,
  MAX_UPLOADED_MEDIA_BYTES,
  TOKENS_PER_IMAGE,
} from './request.js';
export type { ModelRequest, BuildModelRequestInput, FileReference, MediaUploads } from './request.js';
