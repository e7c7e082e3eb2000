export { MediaUploader, type MediaUploaderOptions } from './media-uploader.js';
export {
  MediaUploadError,
  waitUntilActive,
  type MediaUploadCode,
  type ProcessingWait,
} from './processing-wait.js';
export {
  decideCachedFile,
  expiryOf,
  DEFAULT_EXPIRY_MARGIN_MS,
  FILE_LIFETIME_MS,
  type CacheDecision,
} from './cache-decision.js';
export { estimatedTokensOf, readContentFacts, type ContentFacts } from './content-facts.js';
export { timedMediaKind } from './media-tokens.js';
