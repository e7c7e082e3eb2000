import type { GeminiClient } from '../../gemini/index.js';

/** The part of the Gemini client the batch runner uses; narrow so tests and adapters stay small. */
export type BatchApi = Pick<
  GeminiClient,
  | 'uploadJsonl'
  | 'uploadFile'
  | 'getFile'
  | 'deleteFile'
  | 'createBatch'
  | 'getBatch'
  | 'listBatches'
  | 'listFiles'
  | 'cancelBatch'
  | 'downloadFile'
  | 'countTokens'
>;
