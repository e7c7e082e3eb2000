import { z } from 'zod';
import { USAGE_TIERS, type LimitOverrides, type PriceOverrides } from '../pricing/index.js';
import { text, wholeNumber } from './schema-parts.js';

// The `pricing:` and `limits:` keys: the user's corrections to the built-in price list
// (src/pricing/gemini-price-list.ts). Written in snake_case like the rest of the file; handed to
// src/pricing in its camelCase shape.

const usd = z
  .number({ error: 'expected a price in USD per 1M tokens (a number >= 0)' })
  .min(0, { error: 'expected a price in USD per 1M tokens (a number >= 0)' });

const lanePrice = z
  .strictObject({
    input: usd.describe('USD per 1M input tokens'),
    output: usd.describe('USD per 1M output tokens (thinking tokens included)'),
    audio_input: usd.optional().describe('USD per 1M audio input tokens, where it differs'),
    long_context: z
      .strictObject({
        threshold: wholeNumber(1).describe('prompt tokens above which these rates apply'),
        input: usd,
        output: usd,
      })
      .optional()
      .describe('rates for prompts above `threshold` tokens'),
  })
  .transform(({ input, output, audio_input, long_context }) => ({
    input,
    output,
    ...(audio_input !== undefined ? { audioInput: audio_input } : {}),
    ...(long_context ? { longContext: long_context } : {}),
  }));

const modelPrices = z
  .strictObject({
    batch: lanePrice.optional(),
    flex: lanePrice.optional(),
    standard: lanePrice.optional(),
    priority: lanePrice.optional(),
  })
  .refine((lanes) => Object.values(lanes).some((lane) => lane !== undefined), {
    error: 'expected the price of at least one lane: batch, flex, standard or priority',
  });

/** `pricing:` model name → lane → { input, output, audio_input?, long_context? } in USD per 1M tokens. */
export const pricingSchema = z
  .record(text('a model name'), modelPrices, { error: 'expected a mapping of model names' })
  .default({})
  .transform((models): PriceOverrides => models)
  .describe('prices that differ from the built-in list (USD per 1M tokens), per model and lane');

const requestLimits = z
  .strictObject({
    rpm: wholeNumber(0).optional().describe('requests per minute'),
    tpm: wholeNumber(0).optional().describe('input tokens per minute'),
    rpd: wholeNumber(0).nullable().optional().describe('requests per day; null for no daily cap'),
  })
  .transform((limits) =>
    Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)),
  );

const modelLimits = z
  .strictObject({
    flex: requestLimits.optional(),
    standard: requestLimits.optional(),
    priority: requestLimits.optional(),
    batch_enqueued_tokens: wholeNumber(0).optional().describe('input tokens in queued batch jobs at once'),
  })
  .transform(({ batch_enqueued_tokens, ...lanes }) => ({
    ...lanes,
    ...(batch_enqueued_tokens !== undefined ? { batchEnqueuedTokens: batch_enqueued_tokens } : {}),
  }));

/** `limits:` which usage tier's published quotas apply, and per model the ones that differ. */
export const limitsSchema = z
  .strictObject({
    usage_tier: z
      .enum(USAGE_TIERS, { error: `expected one of ${USAGE_TIERS.join(', ')}` })
      .optional()
      .describe("your project's usage tier (free, tier1, tier2, tier3); default tier1"),
    batch_concurrent_jobs: wholeNumber(1).optional().describe('batch jobs queued or running at once'),
    models: z
      .record(text('a model name'), modelLimits, { error: 'expected a mapping of model names' })
      .optional()
      .describe('per model: flex / standard / priority { rpm, tpm, rpd } and batch_enqueued_tokens'),
  })
  .prefault({})
  .transform(({ usage_tier, batch_concurrent_jobs, models }): LimitOverrides => ({
    ...(usage_tier ? { usageTier: usage_tier } : {}),
    ...(batch_concurrent_jobs !== undefined ? { batchConcurrentJobs: batch_concurrent_jobs } : {}),
    ...(models ? { models } : {}),
  }))
  .describe("quotas that differ from the built-in list for your project's usage tier");
