import { pricesFromStandard, type ModelLimits, type PriceList, type RequestLimits } from './price-list.js';

/** Share of the standard limits that the priority tier gets. */
export const PRIORITY_LIMIT_SHARE = 0.3;

/**
 * Flex like standard (its own pool); priority at 0.3x standard where the usage tier may use it
 * (tiers 2 and 3, DOCS priority-inference), else 0; `rpd: null` means no daily cap.
 */
function modelLimits(
  standard: RequestLimits,
  enqueuedTokens: number,
  priority: 'priority' | 'no priority' = 'priority',
): ModelLimits {
  const share = priority === 'priority' ? PRIORITY_LIMIT_SHARE : 0;
  return {
    standard,
    flex: { ...standard },
    priority: {
      rpm: Math.floor(standard.rpm * share),
      tpm: Math.floor(standard.tpm * share),
      rpd: standard.rpd === null ? null : Math.floor(standard.rpd * share),
    },
    batchEnqueuedTokens: enqueuedTokens,
  };
}

/**
 * Gemini Developer API prices and limits, as published: the one place they are written down.
 * Update `asOf` and the sources with every change; users override any value with the config's
 * `pricing:` and `limits:` keys (README, "Prices and limits").
 *
 * Prices are USD per 1M tokens, paid tier, text/image/video input. Output includes thinking tokens,
 * which Google bills as output. Batch and Flex cost 50% of standard (DOCS batch-api "Technical
 * details"; DOCS optimization: "Flex 50% discount"). Priority costs "75% to 100% more than
 * standard" (DOCS optimization); this list charges +80%, the rate LLM gateways pass on, so cost
 * estimates for priority may be up to 10% low: set `pricing:` if you know your contract's rate.
 * The ratios are LANE_SHARE_OF_STANDARD (price-list.ts).
 *
 * Limits are per project and per model. Flex requests are counted in their own RPM/TPM/RPD pool,
 * sized like standard's (not published separately); the priority tier gets 0.3x the standard limits
 * (DOCS rate-limits) and only tiers 2 and 3 may use it (DOCS priority-inference). Values marked UNVERIFIED in the sources list are
 * recollections that no stored copy of the docs confirmed: the rate limiter adapts to the 429s of
 * the real limits anyway, so a wrong value costs throughput, not correctness.
 */
export const GEMINI_PRICE_LIST: PriceList = {
  asOf: '2025-10-02',
  sources: [
    'https://ai.google.dev/gemini-api/docs/pricing (copy "Last updated 2025-10-02"; agrees with @pydantic/genai-prices 0.1.8)',
    'https://ai.google.dev/gemini-api/docs/batch-api ("priced at 50% of the standard interactive API cost")',
    'https://ai.google.dev/gemini-api/docs/optimization (Flex: 50% discount; Priority: 75% to 100% more than standard)',
    'https://ai.google.dev/gemini-api/docs/rate-limits (copies of 2025-09-05, 2025-10-02 and 2026: tier 1-3 RPM/TPM/RPD, enqueued tokens, 100 concurrent batch jobs, priority at 0.3x standard limits)',
    'https://ai.google.dev/gemini-api/docs/priority-inference (priority is available to tier 2 and tier 3 users)',
    'UNVERIFIED (recollection, not in the stored copies): tier 2 real-time limits of every model; free, tier 1 and tier 3 gemini-2.5-flash-lite real-time limits; tier 3 gemini-2.5-pro real-time limits',
  ],
  models: {
    'gemini-2.5-pro': pricesFromStandard({
      input: 1.25,
      output: 10,
      longContext: { threshold: 200_000, input: 2.5, output: 15 },
    }),
    'gemini-2.5-flash': pricesFromStandard({ input: 0.3, output: 2.5, audioInput: 1 }),
    'gemini-2.5-flash-lite': pricesFromStandard({ input: 0.1, output: 0.4, audioInput: 0.3 }),
    'gemini-2.0-flash': pricesFromStandard({ input: 0.1, output: 0.4, audioInput: 0.7 }),
    'gemini-2.0-flash-lite': pricesFromStandard({ input: 0.075, output: 0.3 }),
  },
  defaultUsageTier: 'tier1',
  limitsFallbackModel: 'gemini-2.5-flash',
  limits: {
    free: {
      batchConcurrentJobs: 100,
      models: {
        // The Batch API is a paid-tier feature (DOCS pricing: "Paid: … Batch API"): nothing can be enqueued.
        'gemini-2.5-pro': modelLimits({ rpm: 5, tpm: 250_000, rpd: 100 }, 0, 'no priority'),
        'gemini-2.5-flash': modelLimits({ rpm: 10, tpm: 250_000, rpd: 250 }, 0, 'no priority'),
        'gemini-2.5-flash-lite': modelLimits({ rpm: 15, tpm: 250_000, rpd: 1_000 }, 0, 'no priority'),
      },
    },
    tier1: {
      batchConcurrentJobs: 100,
      models: {
        'gemini-2.5-pro': modelLimits({ rpm: 150, tpm: 2_000_000, rpd: 10_000 }, 5_000_000, 'no priority'),
        'gemini-2.5-flash': modelLimits(
          { rpm: 1_000, tpm: 1_000_000, rpd: 10_000 },
          3_000_000,
          'no priority',
        ),
        'gemini-2.5-flash-lite': modelLimits(
          { rpm: 4_000, tpm: 4_000_000, rpd: null },
          10_000_000,
          'no priority',
        ),
      },
    },
    tier2: {
      batchConcurrentJobs: 100,
      models: {
        'gemini-2.5-pro': modelLimits({ rpm: 1_000, tpm: 5_000_000, rpd: 50_000 }, 500_000_000),
        'gemini-2.5-flash': modelLimits({ rpm: 2_000, tpm: 3_000_000, rpd: 100_000 }, 400_000_000),
        'gemini-2.5-flash-lite': modelLimits({ rpm: 10_000, tpm: 10_000_000, rpd: null }, 500_000_000),
      },
    },
    tier3: {
      batchConcurrentJobs: 100,
      models: {
        'gemini-2.5-pro': modelLimits({ rpm: 2_000, tpm: 8_000_000, rpd: null }, 1_000_000_000),
        'gemini-2.5-flash': modelLimits({ rpm: 10_000, tpm: 8_000_000, rpd: null }, 1_000_000_000),
        'gemini-2.5-flash-lite': modelLimits({ rpm: 30_000, tpm: 30_000_000, rpd: null }, 1_000_000_000),
      },
    },
  },
};
