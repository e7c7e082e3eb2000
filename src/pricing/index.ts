/**
 * Prices and limits of the Gemini API, per model and lane, from one dated list
 * (`gemini-price-list.ts`) that the config's `pricing:` and `limits:` keys override; and what a
 * request costs. The emulator's ledger, cost estimates, the scheduler's budget and run summaries
 * all price from here.
 */
export { GEMINI_PRICE_LIST, PRIORITY_LIMIT_SHARE } from './gemini-price-list.js';
export {
  LANE_SHARE_OF_STANDARD,
  USAGE_TIERS,
  listedModel,
  modelLimits,
  modelPrices,
  pricesFromStandard,
  scalePrice,
  type LanePrice,
  type ModelLimits,
  type ModelPrices,
  type PriceList,
  type RequestLimits,
  type TokenRates,
  type UsageTier,
  type UsageTierLimits,
} from './price-list.js';
export { costOf, evenRequestsCost, requestCost, type BilledTokens } from './cost.js';
export {
  applyOverrides,
  configuredPriceList,
  type LimitOverrides,
  type PriceOverrides,
} from './overrides.js';
export {
  batchRecordsAtOnce,
  NoBatchQuotaError,
  tierCappedBatchCaps,
  type BatchCaps,
  type BatchJobShape,
  type RecordSize,
  type ConfiguredBatchCaps,
} from './batch-caps.js';
