import { LANES, type Lane, type SyncLane } from '../lanes/lane.js';

/** USD per 1M tokens. `output` covers the answer and the thinking tokens (both billed as output). */
export interface TokenRates {
  input: number;
  output: number;
}

/** What one model costs on one lane. */
export interface LanePrice extends TokenRates {
  /** Input rate for audio parts, where it differs from `input`. */
  audioInput?: number;
  /** Rates for a request whose prompt exceeds `threshold` tokens (long context), where the model has them. */
  longContext?: TokenRates & { threshold: number };
}

/** A model's price on every lane. */
export type ModelPrices = Record<Lane, LanePrice>;

/** Per-minute and per-day quotas of one model on one synchronous lane; `rpd: null` is no daily cap. */
export interface RequestLimits {
  /** Requests per minute. */
  rpm: number;
  /** Input tokens per minute. */
  tpm: number;
  /** Requests per day (resets at midnight Pacific), or null when there is none. */
  rpd: number | null;
}

/** A model's quotas: one pool per synchronous lane, and the Batch API's enqueued-token cap. */
export type ModelLimits = Record<SyncLane, RequestLimits> & {
  /** Input tokens allowed in this model's queued and running batch jobs at once. */
  batchEnqueuedTokens: number;
};

/** Google's usage tiers (by money spent), each with its own limits. */
export const USAGE_TIERS = ['free', 'tier1', 'tier2', 'tier3'] as const;
export type UsageTier = (typeof USAGE_TIERS)[number];

/** Limits of one usage tier. */
export interface UsageTierLimits {
  /** Batch jobs queued or running at once, per project. */
  batchConcurrentJobs: number;
  models: Record<string, ModelLimits>;
}

/** Prices and limits as of a date, with where they come from. */
export interface PriceList {
  /** ISO date of the published figures. */
  asOf: string;
  sources: string[];
  models: Record<string, ModelPrices>;
  defaultUsageTier: UsageTier;
  /** Whose limits a model missing from the limits tables gets. */
  limitsFallbackModel: string;
  limits: Record<UsageTier, UsageTierLimits>;
}

/** The name as listed: without `models/`, lower case. */
function bareModel(model: string): string {
  return model.replace(/^models\//, '').toLowerCase();
}

/**
 * The listed model `model` is a version of: the exact name, else the longest listed name it starts
 * with followed by `-` (`gemini-2.5-flash-lite-001` is flash-lite, not flash), else null.
 */
export function listedModel(names: Iterable<string>, model: string): string | null {
  const wanted = bareModel(model);
  let best: string | null = null;
  for (const name of names) {
    if (wanted !== name && !wanted.startsWith(`${name}-`)) continue;
    if (best === null || name.length > best.length) best = name;
  }
  return best;
}

/** A model's prices on every lane, or null when the list does not know the model. */
export function modelPrices(list: PriceList, model: string): ModelPrices | null {
  const name = listedModel(Object.keys(list.models), model);
  return name === null ? null : (list.models[name] ?? null);
}

/** A model's limits in a usage tier; models missing from the tables get the fallback model's. */
export function modelLimits(
  list: PriceList,
  model: string,
  tier: UsageTier = list.defaultUsageTier,
): ModelLimits {
  const table = list.limits[tier].models;
  const name = listedModel(Object.keys(table), model) ?? list.limitsFallbackModel;
  const limits = table[name] ?? table[list.limitsFallbackModel];
  if (!limits)
    throw new Error(`price list: usage tier ${tier} has no limits for ${list.limitsFallbackModel}`);
  return limits;
}

/**
 * What each lane costs as a share of standard: Batch and Flex 50% (DOCS batch-api, optimization);
 * Priority "75% to 100% more" (DOCS optimization), taken as +80%, the rate LLM gateways pass on.
 */
export const LANE_SHARE_OF_STANDARD: Readonly<Record<Lane, number>> = {
  standard: 1,
  batch: 0.5,
  flex: 0.5,
  priority: 1.8,
};

/** A price scaled by `share` (every rate, long context included), to a tenth of a micro-dollar. */
export function scalePrice(price: LanePrice, share: number): LanePrice {
  // Rounded so 0.3 * 0.5 is 0.15, not 0.15000000000000002.
  const round = (usd: number) => Math.round(usd * share * 1e7) / 1e7;
  const out: LanePrice = { input: round(price.input), output: round(price.output) };
  if (price.audioInput !== undefined) out.audioInput = round(price.audioInput);
  if (price.longContext) {
    out.longContext = {
      threshold: price.longContext.threshold,
      input: round(price.longContext.input),
      output: round(price.longContext.output),
    };
  }
  return out;
}

/** Every lane's price from the standard one, by the published ratios. */
export function pricesFromStandard(standard: LanePrice): ModelPrices {
  const prices = {} as ModelPrices;
  for (const lane of LANES) prices[lane] = scalePrice(standard, LANE_SHARE_OF_STANDARD[lane]);
  return prices;
}
