import { formGroups } from '../lanes/batch/request-groups.js';
import type { ModelRequest } from '../gemini/index.js';
import { requestCost, type LanePrice } from '../pricing/index.js';
import { usdFine } from '../quantities.js';
import type { LaneDecision } from '../scheduler/index.js';
import type { StoredRecord } from '../store/store.js';
import { estimatedAudioTokens, type RecordRequestBuilder } from './record-request.js';

/**
 * What is not billed yet is counted at this much over its estimate: an estimate errs both ways (a
 * record's output is priced at the run's mean), and the cost cap must not be crossed by the error.
 */
export const ESTIMATE_MARGIN = 1.15;

/** Priced requests kept between rounds (ready records' own, and groups'). */
export const PRICED_KEPT = 100_000;

/** The estimated input tokens of the request a record goes in, how many are audio, and how many records share it. */
export interface InputTokens {
  tokens: number;
  audio: number;
  records: number;
}

export const NO_TOKENS: InputTokens = { tokens: 0, audio: 0, records: 1 };

/** A record as priced: a record sent again is built anew (it goes alone, its context may differ). */
export function priceKey(record: StoredRecord): string {
  return `${record.id}\u0000${record.attempts}`;
}

/** Keeps a priced figure, bounded: a huge backlog is priced again rather than held in memory. */
export function keepPriced(kept: Map<string, InputTokens>, key: string, tokens: InputTokens): void {
  if (kept.size >= PRICED_KEPT) kept.clear();
  kept.set(key, tokens);
}

/**
 * USD of one request at its estimate, margin included, `output` tokens answering each of its
 * records; nothing for one that could not be built (nothing is billed for it). Priced as `estimate`
 * prices it and the API bills it: the prompt's audio at the audio rate.
 */
export function sentCost(price: LanePrice, sent: InputTokens, output: number): number {
  if (sent.tokens <= 0) return 0;
  return (
    requestCost(price, {
      inputTokens: sent.tokens,
      outputTokens: output * sent.records,
      audioInputTokens: sent.audio,
    }) * ESTIMATE_MARGIN
  );
}

/** A built request's estimated input tokens and its audio among them, for `records` records. */
export function inputTokensOf(
  built: { request: ModelRequest; estimatedTokens: number },
  records: number,
): InputTokens {
  return { tokens: built.estimatedTokens, audio: estimatedAudioTokens(built), records };
}

/** The cost cap's view of the batch lane's grouped requests (`records_per_request` > 1). */
export class BatchGroupPricing {
  /** Grouped requests already built, by their records: a group ready pass after pass is built once. */
  private readonly groupTokens = new Map<string, InputTokens>();

  constructor(
    private readonly deps: {
      requests: Pick<RecordRequestBuilder, 'buildGroup'>;
      recordsPerRequest: number;
      /** A record's own request as priced this pass, if it was. */
      alone: (record: StoredRecord) => InputTokens | undefined;
    },
  ) {}

  /**
   * The grouped request the batch lane would send each ready record in: the groups the records ready
   * now form, as the batch lane forms them (formGroups, in order). A group is kept by its records, so
   * a record is never priced in a group an earlier pass formed: a record left ready (held, or in an
   * open last job kept for the next chunk) goes in a group with the records ready next, not the one
   * it was first priced in. A record sent before goes alone, and one whose group cannot be built is
   * priced alone: no group for either.
   */
  async byRecord(ready: readonly StoredRecord[]): Promise<Map<string, InputTokens>> {
    const byRecord = new Map<string, InputTokens>();
    for (const group of formGroups(ready, this.deps.recordsPerRequest)) {
      const tokens = await this.groupInput(group);
      if (tokens) for (const record of group) byRecord.set(priceKey(record), tokens);
    }
    return byRecord;
  }

  /**
   * The batch lane groups the records it is given, in order (formGroups): when the cap holds some of
   * a priced group's records, or `auto` sends some on another lane, the others go in a smaller group,
   * which pays the instructions over fewer records, and the groups after it shift. So the records
   * decided for batch are priced again as the requests they will really go in, and while these take
   * what is committed over the cap, the last of them is held too (its decision replaced). Priced at
   * their shares of the groups they were priced in, two records of a group of four the cap cut short
   * went in a group of their own, billed at twice their estimate, and the run's bill crossed the cap.
   */
  async holdToCap(
    decisions: LaneDecision[],
    ready: readonly StoredRecord[],
    budget: { capUsd: number; committedUsd: number; price: LanePrice; outputTokens: number },
  ): Promise<void> {
    const index = new Map(decisions.map((decision, at) => [decision.recordId, at]));
    const batch = ready.filter((record) => decisions[index.get(record.id) ?? -1]?.lane === 'batch');
    let others = budget.committedUsd;
    for (const decision of decisions)
      if (decision.lane !== null && decision.lane !== 'batch') others += decision.costUsd;
    while (batch.length > 0) {
      let usd = others;
      for (const group of formGroups(batch, this.deps.recordsPerRequest))
        usd += await this.groupCost(group, budget.price, budget.outputTokens);
      if (usd <= budget.capUsd + 1e-12) break;
      const last = batch.pop() as StoredRecord;
      const at = index.get(last.id) as number;
      decisions[at] = {
        recordId: last.id,
        lane: null,
        reason: 'max_cost',
        explanation: `held by max_cost: the batch requests it would go in come to ${usdFine(usd)} with what is committed, over ${usdFine(budget.capUsd)}`,
        costUsd: 0,
        heldForUsd: 0,
        chainFinishMs: Number.POSITIVE_INFINITY,
      };
    }
    // A held record goes out in a request of its own at the least (a group of one, on batch or at the
    // same price on Flex): no run can send it for a share of a group. Judged by its share, a cap above
    // the share but below its instructions alone told the user to run again, run after run.
    for (const record of ready) {
      const at = index.get(record.id) as number;
      const decision = decisions[at];
      if (decision?.reason !== 'max_cost') continue;
      const alone = sentCost(budget.price, this.deps.alone(record) ?? NO_TOKENS, budget.outputTokens);
      decisions[at] = { ...decision, heldForUsd: Math.max(decision.heldForUsd ?? 0, alone) };
    }
  }

  /** A group's request, or null for a group of one and one that cannot be built (its records go alone). */
  private async groupInput(group: readonly StoredRecord[]): Promise<InputTokens | null> {
    if (group.length < 2) return null;
    const key = group.map(priceKey).join('\u0001');
    const kept = this.groupTokens.get(key);
    if (kept) return kept;
    try {
      const tokens = inputTokensOf(await this.deps.requests.buildGroup(group, 'price'), group.length);
      keepPriced(this.groupTokens, key, tokens);
      return tokens;
    } catch {
      // Priced alone: the batch lane finds the record at fault when it builds the group.
      return null;
    }
  }

  /** A batch group's estimated USD, margin included: one request, or each record alone when it cannot be built. */
  private async groupCost(group: readonly StoredRecord[], price: LanePrice, output: number): Promise<number> {
    const grouped = await this.groupInput(group);
    const requests = grouped ? [grouped] : group.map((record) => this.deps.alone(record) ?? NO_TOKENS);
    return requests.reduce((sum, sent) => sum + sentCost(price, sent, output), 0);
  }
}
