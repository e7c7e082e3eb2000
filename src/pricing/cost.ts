import type { Lane } from '../lanes/lane.js';
import { modelPrices, type LanePrice, type PriceList } from './price-list.js';

/** Tokens one request was billed for (or is expected to be). */
export interface BilledTokens {
  /** Prompt tokens, audio included. */
  inputTokens: number;
  /** Answer plus thinking tokens: Google bills both as output. */
  outputTokens: number;
  /** The part of `inputTokens` that is audio, billed at `audioInput` where the model has it. */
  audioInputTokens?: number;
}

/**
 * USD of one request at `price`. The long-context rates apply to the whole request (input and
 * output) once its prompt exceeds the threshold, as Google bills them; so cost is per request, and
 * a sum of requests must be priced request by request, never from summed tokens.
 */
export function requestCost(price: LanePrice, tokens: BilledTokens): number {
  const long = price.longContext;
  const rates = long && tokens.inputTokens > long.threshold ? long : price;
  const audio = Math.min(tokens.audioInputTokens ?? 0, tokens.inputTokens);
  const audioRate = rates === price ? (price.audioInput ?? price.input) : rates.input;
  const usd =
    (tokens.inputTokens - audio) * rates.input + audio * audioRate + tokens.outputTokens * rates.output;
  return usd / 1_000_000;
}

/** USD of one request of `model` on `lane`, or null when the price list does not know the model. */
export function costOf(list: PriceList, model: string, lane: Lane, tokens: BilledTokens): number | null {
  const prices = modelPrices(list, model);
  return prices ? requestCost(prices[lane], tokens) : null;
}

/**
 * USD of `requests` requests of equal size that share `tokens` (a batch job known only by its
 * totals): each is priced as one request of its share, so a job of many small requests is not
 * priced at the long-context rate that only a request whose own prompt is above the threshold is
 * billed at.
 */
export function evenRequestsCost(price: LanePrice, tokens: BilledTokens, requests: number): number {
  const count = Math.max(1, requests);
  const each: BilledTokens = {
    inputTokens: tokens.inputTokens / count,
    outputTokens: tokens.outputTokens / count,
    audioInputTokens: (tokens.audioInputTokens ?? 0) / count,
  };
  return requestCost(price, each) * count;
}
