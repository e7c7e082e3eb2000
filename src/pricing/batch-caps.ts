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
 * How the batch lane fills a job (`execution.max_requests_per_job`, `records_per_request`,
 * `max_job_bytes`).
 */
export interface BatchJobShape {
  maxRequestsPerJob: number;
  recordsPerRequest: number;
  maxJobBytes: number;
}

/** A mean record of the workload: its input tokens and its bytes of request line (0: unknown). */
export interface RecordSize {
  inputTokens: number;
  bytes: number;
}

/**
 * Records the batch lane holds in its jobs at once: as many as the enqueued-token budget holds at
 * the record's input tokens, and never more than the jobs hold (jobs × requests per job × records
 * per request, a job's requests as many as fit in `max_job_bytes` when fewer: a job of inline
 * images fills its bytes long before its thousand requests). One figure for `estimate`'s batch and
 * auto projections and a run's batch-only comparison, so both see the same waves.
 */
export function batchRecordsAtOnce(caps: BatchCaps, job: BatchJobShape, record: RecordSize): number {
  const byTokens =
    record.inputTokens > 0 ? caps.enqueuedTokenBudget / record.inputTokens : caps.enqueuedTokenBudget;
  const requestBytes = record.bytes * job.recordsPerRequest;
  const requestsPerJob =
    requestBytes > 0
      ? Math.min(job.maxRequestsPerJob, Math.max(1, Math.floor(job.maxJobBytes / requestBytes)))
      : job.maxRequestsPerJob;
  return Math.min(byTokens, caps.maxConcurrentJobs * requestsPerJob * job.recordsPerRequest);
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
  }
}
