/** USD per 1M tokens, real-time (standard tier, paid). */
interface ModelPrice {
  input: number;
  output: number;
  /** Long-context prices, charged when the prompt exceeds `threshold` tokens. */
  long?: { threshold: number; input: number; output: number };
}

/** Published prices (ai.google.dev/gemini-api/docs/pricing, text/image/video input). */
const PRICES: Record<string, ModelPrice> = {
  'gemini-2.5-pro': { input: 1.25, output: 10, long: { threshold: 200_000, input: 2.5, output: 15 } },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
};

const FALLBACK = 'gemini-2.5-flash';

/** Batch requests cost half of real-time ones. */
export const BATCH_DISCOUNT = 0.5;

/** Longest-prefix match, so 'models/gemini-2.5-flash-lite-001' finds flash-lite, not flash. */
function priceFor(model: string): ModelPrice {
  const name = model.replace(/^models\//, '');
  const match = Object.keys(PRICES)
    .filter((known) => name === known || name.startsWith(`${known}-`))
    .sort((a, b) => b.length - a.length)[0];
  return PRICES[match ?? FALLBACK] ?? { input: 0.3, output: 2.5 };
}

/** What one call costs in USD: the model's published prices (long-context above its threshold), halved for batch; unknown models cost as gemini-2.5-flash. */
export function priceOf(
  model: string,
  inputTokens: number,
  outputTokens: number,
  mode: 'batch' | 'realtime',
): number {
  const price = priceFor(model);
  const rates = price.long && inputTokens > price.long.threshold ? price.long : price;
  const usd = (inputTokens * rates.input + outputTokens * rates.output) / 1_000_000;
  return mode === 'batch' ? usd * BATCH_DISCOUNT : usd;
}
