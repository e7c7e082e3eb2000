import { WavebatchError } from '../errors.js';
import { modelLimits, type PriceList } from './price-list.js';

/*
 * The batch lane's limits a run plans within: the workload's own caps, never above what its usage
 * tier lets it hold at Google. The runner submits within these and `estimate` projects with them;
 * one function, so what is estimated is what runs. Above the tier's enqueued-token limit (Tier 1
 * 2.5 Flash: 3M, under the default budget of 5M) Google refuses the create with a 429 the run could
 * only wait out, and a job packed larger than the limit alone would never be admitted.
 */

/** The config's batch settings these caps start from (`execution:`). */
export interface ConfiguredBatchCaps {
  enqueued_token_budget: number;
  max_concurrent_jobs: number;
}

/** The batch caps in force: configured, capped by the usage tier's limits for the model. */
export interface BatchCaps {
  /** Input tokens in this workload's queued and running jobs at once. */
  enqueuedTokenBudget: number;
  /** Batch jobs queued or running at once. */
  maxConcurrentJobs: number;
}

/** `execution`'s caps, each lowered to the usage tier's limit for `model` in `prices` (the config's `limits:` applied). */
export function tierCappedBatchCaps(
  execution: ConfiguredBatchCaps,
  model: string,
  prices: PriceList,
): BatchCaps {
  const tier = prices.limits[prices.defaultUsageTier];
  return {
    enqueuedTokenBudget: Math.min(
      execution.enqueued_token_budget,
      modelLimits(prices, model).batchEnqueuedTokens,
    ),
    maxConcurrentJobs: Math.min(execution.max_concurrent_jobs, tier.batchConcurrentJobs),
  };
}

/**
 * A run in `execution.mode: batch` whose usage tier enqueues nothing for the model (the free tier:
 * the Batch API is a paid feature). Refused at start: with a budget of 0 no job could ever be sent,
 * and the run would wait for ever.
 */
export class NoBatchQuotaError extends WavebatchError {
  readonly code = 'CONFIG_NO_BATCH_QUOTA';
  constructor(model: string) {
    super(
      `The batch lane has no quota for ${model} in your usage tier (the Batch API needs tier 1 or above): ` +
        `set limits.usage_tier, limits.models.${model}.batch_enqueued_tokens, or another execution.mode.`,
    );
    this.name = 'NoBatchQuotaError';
  }
}
