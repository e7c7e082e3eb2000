import { SYNC_LANES, type SyncLane } from '../lanes/lane.js';
import { PRIORITY_LIMIT_SHARE } from '../pricing/index.js';
import { GoogleError, invalidArgument } from './google-error.js';
import { isJsonObject } from './json-object.js';
import { RealtimeLimiter, type RealtimeLimits } from './realtime-limiter.js';
import type { QuotaError } from './quotas.js';
import { randomInteger, seededRandom, type Random } from './seeded-random.js';

/*
 * The service tiers of generateContent (`serviceTier: flex | standard | priority`, as SDK 3.x
 * sends GenerateContentConfig.serviceTier): each tier's latency on the emulated clock, Flex
 * shedding, and a separate RPM/TPM/RPD pool per model and tier. Facts (shared/docs/gemini-facts.md,
 * DOCS flex-inference, priority-inference, rate-limits): Flex answers in minutes (1-15 min target)
 * and is best effort; standard in seconds to minutes; priority in seconds, and a priority request
 * over its limit is served by standard instead of refused; priority gets 0.3x the standard limits.
 */

/** How one tier behaves; times are emulated ms. */
export interface TierBehaviour {
  /** Time from request to answer, drawn per request (seeded) from [min, max]. */
  latencyMs: { min: number; max: number };
  /** Share of requests answered at once with Google's 503 "high demand" instead (Flex shedding). */
  shedRate: number;
}

/** The tiers' behaviour where EmulatorOptions.tiers leaves a field out. */
export const DEFAULT_TIERS: Readonly<Record<SyncLane, TierBehaviour>> = {
  flex: { latencyMs: { min: 60_000, max: 15 * 60_000 }, shedRate: 0 },
  standard: { latencyMs: { min: 1_000, max: 20_000 }, shedRate: 0 },
  priority: { latencyMs: { min: 500, max: 5_000 }, shedRate: 0 },
};

/** A tier's behaviour as options give it: a latency as one number or a range, each field optional. */
export interface TierOptions {
  latencyMs?: number | { min: number; max: number };
  shedRate?: number;
}

/** RPM/TPM/RPD of generateContent: per tier for every model, and per model and tier. */
export interface TierQuotas {
  /** Limits of one tier for every model; flex defaults to standard's, priority to 0.3x standard's. */
  tiers?: Partial<Record<SyncLane, Partial<RealtimeLimits>>>;
  /** Limits of one model (name without `models/`) on one tier, over `tiers`. */
  models?: Record<string, Partial<Record<SyncLane, Partial<RealtimeLimits>>>>;
}

/** Every tier's behaviour with defaults filled in. */
export function resolveTiers(
  options: Partial<Record<SyncLane, TierOptions>> = {},
): Record<SyncLane, TierBehaviour> {
  const resolved = {} as Record<SyncLane, TierBehaviour>;
  for (const tier of SYNC_LANES) {
    const given = options[tier] ?? {};
    const latency = given.latencyMs;
    resolved[tier] = {
      latencyMs:
        latency === undefined
          ? DEFAULT_TIERS[tier].latencyMs
          : typeof latency === 'number'
            ? { min: latency, max: latency }
            : latency,
      shedRate: given.shedRate ?? DEFAULT_TIERS[tier].shedRate,
    };
  }
  return resolved;
}

/** The limits of `model` on `tier`: the model's own, else the tier's, else derived from standard's. */
export function tierLimits(
  standard: RealtimeLimits,
  quotas: TierQuotas,
  model: string,
  tier: SyncLane,
): RealtimeLimits {
  const base: RealtimeLimits =
    tier === 'priority'
      ? {
          rpm: Math.max(1, Math.floor(standard.rpm * PRIORITY_LIMIT_SHARE)),
          tpm: Math.max(1, Math.floor(standard.tpm * PRIORITY_LIMIT_SHARE)),
          rpd: Math.max(1, Math.floor(standard.rpd * PRIORITY_LIMIT_SHARE)),
        }
      : standard;
  const name = model.replace(/^models\//, '');
  return { ...base, ...quotas.tiers?.[tier], ...quotas.models?.[name]?.[tier] };
}

const TIER_VALUES: Readonly<Record<string, SyncLane>> = {
  // The API's default tier is standard; the SDK's ServiceTier enum also has `unspecified`.
  unspecified: 'standard',
  standard: 'standard',
  flex: 'flex',
  priority: 'priority',
};

/**
 * The tier a GenerateContentRequest asks for: its top-level `serviceTier` (where SDK 3.x puts it),
 * else `generationConfig.serviceTier`; standard when neither is set. The API takes the lower-case
 * enum values only (`FLEX` is refused, prism-php/prism#1002): any other value is Google's 400.
 */
export function requestedTier(request: Record<string, unknown>): SyncLane {
  const config = request.generationConfig ?? request.generation_config;
  const value =
    request.serviceTier ??
    request.service_tier ??
    (isJsonObject(config) ? (config.serviceTier ?? config.service_tier) : undefined);
  if (value === undefined || value === null) return 'standard';
  const tier = typeof value === 'string' ? TIER_VALUES[value] : undefined;
  if (tier === undefined) {
    throw invalidArgument(
      `Invalid value at 'service_tier' (type.googleapis.com/google.ai.generativelanguage.v1beta.ServiceTier), ${JSON.stringify(value)}`,
    );
  }
  return tier;
}

/**
 * Google's answer to a shed request: 503 UNAVAILABLE "high demand" (the Gemini API's wording when it
 * has no capacity, python-genai#2448; Flex draws on sheddable capacity, so it sees it first).
 */
export function shedError(): GoogleError {
  return new GoogleError(
    'UNAVAILABLE',
    'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
  );
}

/** Where a request was admitted: the tier that serves (and bills) it. */
export type Admission = { served: SyncLane } | { refused: QuotaError };

/** The live tiers: a quota pool per model and tier, seeded latency and shedding draws. */
export class ServiceTiers {
  private readonly limiters: Record<SyncLane, RealtimeLimiter>;
  private readonly latencyRandom: Record<SyncLane, Random>;
  private readonly shedRandom: Random;

  constructor(
    private readonly behaviour: Record<SyncLane, TierBehaviour>,
    /** The standard tier's limits of a model, before `quotas` (Tier 1's unless options set them). */
    standardLimits: (model: string) => RealtimeLimits,
    quotas: TierQuotas,
    seed: number,
    now: () => number,
  ) {
    const limiter = (tier: SyncLane) =>
      new RealtimeLimiter((model) => tierLimits(standardLimits(model), quotas, model, tier), now);
    this.limiters = { flex: limiter('flex'), standard: limiter('standard'), priority: limiter('priority') };
    this.latencyRandom = {
      flex: seededRandom(seed, 'latency:flex'),
      standard: seededRandom(seed, 'latency:standard'),
      priority: seededRandom(seed, 'latency:priority'),
    };
    this.shedRandom = seededRandom(seed, 'shed');
  }

  /**
   * Admits a request of `tokens` input tokens to `model` on `tier`, counting it in the pool of the
   * tier that serves it. A priority request over priority's limits is served by standard when
   * standard has room (Google degrades it rather than refusing it); otherwise the refusal is the
   * requested tier's.
   */
  admit(model: string, tier: SyncLane, tokens: number): Admission {
    const refusal = this.limiters[tier].check(model, tokens);
    if (!refusal) return { served: tier };
    if (tier === 'priority' && !this.limiters.standard.check(model, tokens)) return { served: 'standard' };
    return { refused: refusal };
  }

  /** Whether this request is shed (seeded draw against the tier's shed rate). */
  shed(tier: SyncLane): boolean {
    const rate = this.behaviour[tier].shedRate;
    return rate > 0 && this.shedRandom() < rate;
  }

  /** Emulated ms this request takes on `tier` (seeded draw). */
  latencyMs(tier: SyncLane): number {
    const { min, max } = this.behaviour[tier].latencyMs;
    return randomInteger(this.latencyRandom[tier], min, max);
  }
}
