import { describe, expect, it } from 'vitest';
import { laneCost } from '../../src/emulator/billing.js';

const tokens = (inputTokens: number, outputTokens: number, audioInputTokens = 0) => ({
  inputTokens,
  outputTokens,
  audioInputTokens,
});

describe('laneCost (the ledger prices from src/pricing)', () => {
  it('bills each lane at its published share of standard: batch and flex half, priority +80%', () => {
    expect(laneCost('gemini-2.5-flash', 'standard', tokens(1_000_000, 0))).toBeCloseTo(0.3, 10);
    expect(laneCost('gemini-2.5-flash', 'standard', tokens(0, 1_000_000))).toBeCloseTo(2.5, 10);
    expect(laneCost('gemini-2.5-flash', 'batch', tokens(1_000_000, 1_000_000))).toBeCloseTo(1.4, 10);
    expect(laneCost('gemini-2.5-flash', 'flex', tokens(1_000_000, 1_000_000))).toBeCloseTo(1.4, 10);
    expect(laneCost('gemini-2.5-flash', 'priority', tokens(1_000_000, 0))).toBeCloseTo(0.54, 10);
  });

  it('finds the model with or without models/ and version suffixes (flash-lite is not flash)', () => {
    expect(laneCost('gemini-2.5-flash-lite', 'standard', tokens(1_000_000, 1_000_000))).toBeCloseTo(0.5, 10);
    expect(laneCost('models/gemini-2.0-flash-001', 'batch', tokens(1_000_000, 0))).toBeCloseTo(0.05, 10);
  });

  it('charges long-context rates for gemini-2.5-pro above 200K prompt tokens, and audio at its rate', () => {
    expect(laneCost('gemini-2.5-pro', 'standard', tokens(200_000, 0))).toBeCloseTo(0.25, 10);
    expect(laneCost('gemini-2.5-pro', 'standard', tokens(400_000, 100_000))).toBeCloseTo(1 + 1.5, 10);
    expect(laneCost('gemini-2.5-flash', 'standard', tokens(1_000_000, 0, 1_000_000))).toBeCloseTo(1, 10);
  });

  it('prices a model the list does not know as its fallback model (gemini-2.5-flash)', () => {
    expect(laneCost('gemini-3-flash-preview', 'standard', tokens(2_000_000, 0))).toBeCloseTo(0.6, 10);
  });
});
