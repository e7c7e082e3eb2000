import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  GEMINI_PRICE_LIST,
  applyOverrides,
  configuredPriceList,
  costOf,
  evenRequestsCost,
  modelLimits,
  modelPrices,
  requestCost,
  tierCappedBatchCaps,
} from '../../src/pricing/index.js';
import { failure, makeTempFolder, writeMinimalWorkload, type TempFolder } from '../config/temp-folder.js';

const MILLION = 1_000_000;

describe('the built-in price list', () => {
  it('is dated and names its sources', () => {
    expect(GEMINI_PRICE_LIST.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(GEMINI_PRICE_LIST.sources.some((source) => source.includes('ai.google.dev'))).toBe(true);
  });

  it('prices gemini-2.5-flash as published: batch and flex half of standard, priority +80%', () => {
    const tokens = { inputTokens: MILLION, outputTokens: MILLION };
    expect(costOf(GEMINI_PRICE_LIST, 'gemini-2.5-flash', 'standard', tokens)).toBeCloseTo(2.8, 9);
    expect(costOf(GEMINI_PRICE_LIST, 'gemini-2.5-flash', 'batch', tokens)).toBeCloseTo(1.4, 9);
    expect(costOf(GEMINI_PRICE_LIST, 'gemini-2.5-flash', 'flex', tokens)).toBeCloseTo(1.4, 9);
    expect(costOf(GEMINI_PRICE_LIST, 'gemini-2.5-flash', 'priority', tokens)).toBeCloseTo(5.04, 9);
    expect(modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-flash')?.batch).toEqual({
      input: 0.15,
      output: 1.25,
      audioInput: 0.5,
    });
  });

  it('bills thinking tokens as output and the whole request at long-context rates above 200K prompt tokens', () => {
    const pro = modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-pro');
    if (!pro) throw new Error('gemini-2.5-pro is listed');
    // 200K prompt tokens is still the short tier; one more token is not.
    expect(requestCost(pro.standard, { inputTokens: 200_000, outputTokens: 1000 })).toBeCloseTo(
      (200_000 * 1.25 + 1000 * 10) / MILLION,
      12,
    );
    expect(requestCost(pro.standard, { inputTokens: 200_001, outputTokens: 1000 })).toBeCloseTo(
      (200_001 * 2.5 + 1000 * 15) / MILLION,
      12,
    );
    expect(requestCost(pro.batch, { inputTokens: 300_000, outputTokens: 0 })).toBeCloseTo(
      (300_000 * 1.25) / MILLION,
      12,
    );
  });

  it('prices equal requests known by their totals one request at a time: long-context only per request', () => {
    const pro = modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-pro');
    if (!pro) throw new Error('gemini-2.5-pro is listed');
    // Four requests of 60K prompt tokens: 240K together, none above the 200K threshold.
    const job = { inputTokens: 240_000, outputTokens: 2000, audioInputTokens: 0 };
    expect(evenRequestsCost(pro.batch, job, 4)).toBeCloseTo((240_000 * 0.625 + 2000 * 5) / MILLION, 12);
    // One request of them all is above it.
    expect(evenRequestsCost(pro.batch, job, 1)).toBeCloseTo((240_000 * 1.25 + 2000 * 7.5) / MILLION, 12);
  });

  it('bills audio input at the audio rate', () => {
    const flash = modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-flash');
    if (!flash) throw new Error('gemini-2.5-flash is listed');
    const cost = requestCost(flash.standard, { inputTokens: 1000, audioInputTokens: 400, outputTokens: 0 });
    expect(cost).toBeCloseTo((600 * 0.3 + 400 * 1) / MILLION, 12);
  });

  it('finds versions and models/ names by the longest listed prefix, and knows nothing of unknown models', () => {
    expect(modelPrices(GEMINI_PRICE_LIST, 'models/gemini-2.5-flash-lite-001')?.standard.input).toBe(0.1);
    expect(modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-flash-preview-05-20')?.standard.input).toBe(0.3);
    expect(modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-flashy')).toBeNull();
    expect(
      costOf(GEMINI_PRICE_LIST, 'my-tuned-model', 'batch', { inputTokens: 1, outputTokens: 1 }),
    ).toBeNull();
  });

  it('gives tier 1 limits by default: flex like standard, no priority below tier 2, 0.3x in tier 2', () => {
    const flash = modelLimits(GEMINI_PRICE_LIST, 'gemini-2.5-flash');
    expect(flash.standard).toEqual({ rpm: 1000, tpm: 1_000_000, rpd: 10_000 });
    expect(flash.flex).toEqual(flash.standard);
    expect(flash.priority.rpm).toBe(0);
    expect(flash.batchEnqueuedTokens).toBe(3_000_000);
    expect(modelLimits(GEMINI_PRICE_LIST, 'gemini-2.5-flash', 'tier2').priority).toEqual({
      rpm: 600,
      tpm: 900_000,
      rpd: 30_000,
    });
    expect(GEMINI_PRICE_LIST.limits.tier1.batchConcurrentJobs).toBe(100);
  });

  it("gives a model missing from the limits tables the fallback model's limits", () => {
    expect(modelLimits(GEMINI_PRICE_LIST, 'gemini-9-ultra')).toEqual(
      modelLimits(GEMINI_PRICE_LIST, 'gemini-2.5-flash'),
    );
  });
});

describe('overrides', () => {
  it('replaces only the lanes given for a listed model', () => {
    const list = applyOverrides(GEMINI_PRICE_LIST, {
      'gemini-2.5-flash': { flex: { input: 0.1, output: 1 } },
    });
    expect(modelPrices(list, 'gemini-2.5-flash')?.flex).toEqual({ input: 0.1, output: 1 });
    expect(modelPrices(list, 'gemini-2.5-flash')?.standard.input).toBe(0.3);
    // The built-in list is not changed.
    expect(modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-flash')?.flex.input).toBe(0.15);
  });

  it('derives the other lanes of an unlisted model from the one lane priced', () => {
    const list = applyOverrides(GEMINI_PRICE_LIST, { 'my-model': { batch: { input: 1, output: 2 } } });
    const prices = modelPrices(list, 'models/my-model');
    expect(prices?.standard).toEqual({ input: 2, output: 4 });
    expect(prices?.flex).toEqual({ input: 1, output: 2 });
    expect(prices?.priority).toEqual({ input: 3.6, output: 7.2 });
  });

  it('patches the chosen usage tier, per lane and per field', () => {
    const list = applyOverrides(
      GEMINI_PRICE_LIST,
      {},
      {
        usageTier: 'tier3',
        batchConcurrentJobs: 20,
        models: {
          'gemini-2.5-flash': { flex: { rpm: 50 }, batchEnqueuedTokens: 7 },
          'my-model': { standard: { rpd: 5 } },
        },
      },
    );
    const flash = modelLimits(list, 'gemini-2.5-flash');
    expect(flash.flex).toEqual({ rpm: 50, tpm: 8_000_000, rpd: null });
    expect(flash.standard.rpm).toBe(10_000);
    expect(flash.batchEnqueuedTokens).toBe(7);
    expect(list.limits.tier3.batchConcurrentJobs).toBe(20);
    expect(modelLimits(list, 'my-model').standard).toEqual({ rpm: 10_000, tpm: 8_000_000, rpd: 5 });
  });
});

describe('pricing: and limits: in the config', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder();
  });
  afterEach(() => folder.remove());

  it('are optional: without them the built-in list applies', async () => {
    const config = await loadConfig(writeMinimalWorkload(folder), {});
    expect(config.pricing).toEqual({});
    expect(config.limits).toEqual({});
    expect(configuredPriceList(config).models).toEqual(GEMINI_PRICE_LIST.models);
  });

  it('override prices and limits, written in snake_case', async () => {
    const path = writeMinimalWorkload(
      folder,
      [
        'pricing:',
        '  gemini-2.5-flash:',
        '    flex: { input: 0.12, output: 1.1, long_context: { threshold: 100000, input: 0.2, output: 2 } }',
        'limits:',
        '  usage_tier: tier2',
        '  models:',
        '    gemini-2.5-flash:',
        '      flex: { rpm: 300, rpd: null }',
        '      batch_enqueued_tokens: 1000',
      ].join('\n'),
    );
    const list = configuredPriceList(await loadConfig(path, {}));
    expect(modelPrices(list, 'gemini-2.5-flash')?.flex).toEqual({
      input: 0.12,
      output: 1.1,
      longContext: { threshold: 100_000, input: 0.2, output: 2 },
    });
    const limits = modelLimits(list, 'gemini-2.5-flash');
    expect(limits.flex).toEqual({ rpm: 300, tpm: 3_000_000, rpd: null });
    expect(limits.batchEnqueuedTokens).toBe(1000);
  });

  it('reports a bad price and an unknown usage tier with their lines', async () => {
    const path = writeMinimalWorkload(
      folder,
      [
        'pricing:',
        '  gemini-2.5-flash:',
        '    flex: { input: -1, output: 1 }',
        'limits:',
        '  usage_tier: gold',
      ].join('\n'),
    );
    const error = await failure(path);
    expect(error.message).toContain('line 12: pricing.gemini-2.5-flash.flex.input: expected a price in USD');
    expect(error.message).toMatch(/line 14: limits\.usage_tier: expected one of .*tier1.*, got "gold"/);
  });

  it('refuses a model entry that prices no lane', async () => {
    const error = await failure(writeMinimalWorkload(folder, 'pricing:\n  gemini-2.5-flash: {}'));
    expect(error.message).toContain('expected the price of at least one lane');
  });
});

// The runner and `estimate` both plan batch jobs within these: the default budget (5M) was sent
// uncapped by the runner, above Tier 1's 3M for 2.5 Flash.
describe('the batch caps a run plans within', () => {
  const defaults = { enqueued_token_budget: 5_000_000, max_concurrent_jobs: 10 };

  it("are the configured ones, lowered to the usage tier's limits", () => {
    expect(tierCappedBatchCaps(defaults, 'gemini-2.5-flash', GEMINI_PRICE_LIST)).toEqual({
      enqueuedTokenBudget: 3_000_000,
      maxConcurrentJobs: 10,
    });
    expect(tierCappedBatchCaps(defaults, 'gemini-2.5-pro', GEMINI_PRICE_LIST).enqueuedTokenBudget).toBe(
      5_000_000,
    );
    const raised = applyOverrides(GEMINI_PRICE_LIST, {}, { usageTier: 'tier2', batchConcurrentJobs: 4 });
    expect(tierCappedBatchCaps(defaults, 'gemini-2.5-flash', raised)).toEqual({
      enqueuedTokenBudget: 5_000_000,
      maxConcurrentJobs: 4,
    });
  });
});
