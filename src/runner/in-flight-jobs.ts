import { evenRequestsCost, requestCost, type LanePrice } from '../pricing/index.js';
import type { JobMember, JobRow, WorkloadStore } from '../store/store.js';

/** One request of a batch job, as estimated when the job was created. */
interface RequestEstimate {
  tokens: number;
  audio: number;
  records: number;
}

/**
 * What the batch jobs in flight will cost at their estimates, request by request as the API bills
 * them: the long-context rates apply to a request whose own prompt is over the threshold, never to a
 * job whose requests only add up past it. Each job's requests are read once (its members never
 * change) and kept while it is in flight.
 */
export class InFlightJobs {
  /** Each job's requests, or null for a job created before they were kept (store version 26). */
  private readonly requests = new Map<string, RequestEstimate[] | null>();

  constructor(private readonly store: Pick<WorkloadStore, 'jobMembers'>) {}

  /** USD of `jobs` at `price`, each record answering `outputPerRecord` tokens. */
  async costUsd(jobs: readonly JobRow[], price: LanePrice, outputPerRecord: number): Promise<number> {
    const active = new Set(jobs.map((job) => job.id));
    for (const id of this.requests.keys()) if (!active.has(id)) this.requests.delete(id);
    let usd = 0;
    for (const job of jobs) {
      if (!this.requests.has(job.id))
        this.requests.set(job.id, requestsOf(await this.store.jobMembers(job.id)));
      const requests = this.requests.get(job.id);
      usd += requests
        ? requests.reduce(
            (sum, request) =>
              sum +
              requestCost(price, {
                inputTokens: request.tokens,
                outputTokens: outputPerRecord * request.records,
                audioInputTokens: request.audio,
              }),
            0,
          )
        : // Only its totals are known: equal shares, so its many small requests are not priced as one
          // long-context request (though one long request among short ones is priced below its bill).
          evenRequestsCost(
            price,
            {
              inputTokens: job.estimatedTokens,
              outputTokens: outputPerRecord * job.recordCount,
              audioInputTokens: job.estimatedAudioTokens,
            },
            job.requestCount,
          );
    }
    return usd;
  }
}

/** A job's requests from its members (a group's records share one), or null when they were not kept. */
function requestsOf(members: readonly JobMember[]): RequestEstimate[] | null {
  const requests = new Map<number, RequestEstimate>();
  for (const member of members) {
    if (member.request === undefined) return null;
    const request = requests.get(member.request) ?? { tokens: 0, audio: 0, records: 0 };
    request.tokens += member.estimatedTokens;
    request.audio += member.audioTokens ?? 0;
    request.records += 1;
    requests.set(member.request, request);
  }
  return [...requests.values()];
}
