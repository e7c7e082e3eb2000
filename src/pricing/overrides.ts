import { LANES, SYNC_LANES, type Lane } from '../lanes/lane.js';
import { GEMINI_PRICE_LIST } from './gemini-price-list.js';
import {
  LANE_SHARE_OF_STANDARD,
  listedModel,
  scalePrice,
  modelLimits,
  type LanePrice,
  type ModelLimits,
  type ModelPrices,
  type PriceList,
  type RequestLimits,
  type UsageTier,
} from './price-list.js';

/** The config's `pricing:` key: per model, the lanes whose prices differ from the list. */
export type PriceOverrides = Record<string, Partial<Record<Lane, LanePrice>>>;

/** The config's `limits:` key: which usage tier applies, and per model the quotas that differ. */
export interface LimitOverrides {
  usageTier?: UsageTier;
  batchConcurrentJobs?: number;
  models?: Record<
    string,
    Partial<Record<(typeof SYNC_LANES)[number], Partial<RequestLimits>>> & { batchEnqueuedTokens?: number }
  >;
}

/**
 * The list with the user's prices and limits applied. A priced lane replaces the listed one; a
 * model the list does not know gets its other lanes from the published ratios (batch and flex 50%,
 * priority +80% of standard), so pricing one lane of a new model prices them all. Limits overrides
 * patch the chosen usage tier; an unlisted model starts from the fallback model's limits.
 */
export function applyOverrides(
  list: PriceList,
  prices: PriceOverrides = {},
  limits: LimitOverrides = {},
): PriceList {
  const models: Record<string, ModelPrices> = { ...list.models };
  for (const [model, lanes] of Object.entries(prices)) {
    const name = listedModel(Object.keys(list.models), model);
    const listed = name === null ? undefined : list.models[name];
    const target = listed && name !== null ? name : bare(model);
    models[target] = mergePrices(listed, lanes, model);
  }
  const tier = limits.usageTier ?? list.defaultUsageTier;
  const table = { ...list.limits[tier].models };
  for (const [model, patch] of Object.entries(limits.models ?? {})) {
    const name = listedModel(Object.keys(table), model) ?? bare(model);
    const base = modelLimits(list, name, tier);
    const merged: ModelLimits = { ...base };
    for (const lane of SYNC_LANES) merged[lane] = { ...base[lane], ...(patch[lane] ?? {}) };
    if (patch.batchEnqueuedTokens !== undefined) merged.batchEnqueuedTokens = patch.batchEnqueuedTokens;
    table[name] = merged;
  }
  return {
    ...list,
    models,
    defaultUsageTier: tier,
    limits: {
      ...list.limits,
      [tier]: {
        batchConcurrentJobs: limits.batchConcurrentJobs ?? list.limits[tier].batchConcurrentJobs,
        models: table,
      },
    },
  };
}

function mergePrices(
  listed: ModelPrices | undefined,
  lanes: Partial<Record<Lane, LanePrice>>,
  model: string,
): ModelPrices {
  const base = standardOf(listed, lanes);
  if (!base) throw new RangeError(`pricing.${model}: give at least one lane's price`);
  const merged = {} as ModelPrices;
  for (const lane of LANES)
    merged[lane] = lanes[lane] ?? listed?.[lane] ?? scalePrice(base, LANE_SHARE_OF_STANDARD[lane]);
  return merged;
}

/** The standard price to derive missing lanes from: given, listed, or inferred from a given lane. */
function standardOf(
  listed: ModelPrices | undefined,
  lanes: Partial<Record<Lane, LanePrice>>,
): LanePrice | null {
  if (lanes.standard) return lanes.standard;
  if (listed) return listed.standard;
  for (const lane of LANES) {
    const price = lanes[lane];
    if (price) return scalePrice(price, 1 / LANE_SHARE_OF_STANDARD[lane]);
  }
  return null;
}

function bare(model: string): string {
  return model.replace(/^models\//, '').toLowerCase();
}

/** The built-in list with a config's `pricing:` and `limits:` applied. */
export function configuredPriceList(config: {
  pricing?: PriceOverrides;
  limits?: LimitOverrides;
}): PriceList {
  return applyOverrides(GEMINI_PRICE_LIST, config.pricing, config.limits);
}
