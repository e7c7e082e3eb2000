import { GEMINI_PRICE_LIST, modelLimits } from '../pricing/index.js';
import { bareModelName } from './model/catalog.js';
import type { RealtimeLimits } from './realtime-limiter.js';

/*
 * The per-model limits the emulator enforces where its options set none: Google's Tier 1, the usage
 * tier of a project with a billing account (gemini-facts.md; DOCS rate-limits), read from the one
 * dated list of prices and limits (src/pricing/gemini-price-list.ts): enqueued batch tokens 2.5 Pro
 * 5M, 2.5 Flash 3M, 2.5 Flash-Lite 10M; real time 2.5 Flash 1,000 RPM / 1M TPM / 10K RPD, 2.5 Pro
 * 150 / 2M / 10K. A model the list does not know gets 2.5 Flash's, as wavebatch's own planning does.
 * The defaults were 10M enqueued tokens, 4M TPM and 100K RPD for every model: a workload that fits
 * on the emulator could be refused by Google.
 */

/** One model's batch and real-time (standard tier) limits. */
export interface ModelQuotas extends RealtimeLimits {
  maxEnqueuedTokensPerModel: number;
}

/** The per-model limits an option can set; a field left out is the model's Tier 1 value. */
export interface QuotaValues {
  maxEnqueuedTokensPerModel?: number | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
  rpd?: number | undefined;
}

/**
 * The per-model limits options set: the fields for every model at once, and `models` for one model
 * each (keyed by its name without `models/`), over them. Defaults differ per model (2.5 Pro's 150 RPM
 * against Flash's 1,000), so one value for every model could not raise one model's limit alone.
 */
export interface QuotaOverrides extends QuotaValues {
  models?: Record<string, QuotaValues> | undefined;
}

/** Google's Tier 1 limits of `model` (a daily cap Google does not set is Infinity). */
export function tier1Quotas(model: string): ModelQuotas {
  const limits = modelLimits(GEMINI_PRICE_LIST, model, 'tier1');
  return {
    maxEnqueuedTokensPerModel: limits.batchEnqueuedTokens,
    rpm: limits.standard.rpm,
    tpm: limits.standard.tpm,
    rpd: limits.standard.rpd ?? Number.POSITIVE_INFINITY,
  };
}

/** The limits of `model`: its own override, else the one for every model, else its Tier 1 value. */
export function modelQuotas(overrides: QuotaOverrides, model: string): ModelQuotas {
  const tier1 = tier1Quotas(model);
  const own = overrides.models?.[bareModelName(model)] ?? {};
  return {
    maxEnqueuedTokensPerModel:
      own.maxEnqueuedTokensPerModel ?? overrides.maxEnqueuedTokensPerModel ?? tier1.maxEnqueuedTokensPerModel,
    rpm: own.rpm ?? overrides.rpm ?? tier1.rpm,
    tpm: own.tpm ?? overrides.tpm ?? tier1.tpm,
    rpd: own.rpd ?? overrides.rpd ?? tier1.rpd,
  };
}
