import { describe, expect, it } from 'vitest';
import { EnqueuedTokenBudget } from '../../src/planner/enqueued-token-budget.js';

const MINUTE = 60_000;

describe('EnqueuedTokenBudget', () => {
  it('is the configured budget until the API refuses a create for enqueued tokens', () => {
    const budget = new EnqueuedTokenBudget(1_000);
    expect(budget.current(0)).toBe(1_000);
    expect(budget.current(10 * 60 * MINUTE)).toBe(1_000);
  });

  it('shrinks to what is enqueued, or four fifths of what was refused, never growing on a refusal', () => {
    const budget = new EnqueuedTokenBudget(1_000);
    // 600 enqueued were admitted, 600 + 300 refused.
    expect(budget.refused(600, 300, 0)).toEqual({ from: 1_000, to: 720, first: true });
    expect(budget.current(0)).toBe(720);
    // Little enqueued: four fifths of the refused total; a later shrink is not the first.
    expect(budget.refused(100, 400, 0)).toEqual({ from: 720, to: 400, first: false });
    // A refusal above the budget now does not raise it.
    expect(budget.refused(900, 100, 0).to).toBe(400);
    // At least one token, so a refused job of nothing enqueued still leaves room for one request.
    expect(budget.refused(0, 0, 0).to).toBe(1);
  });

  it('grows back a tenth of the configured budget every 10 minutes without a refusal, up to it', () => {
    const budget = new EnqueuedTokenBudget(1_000);
    budget.refused(500, 100, 0);
    expect(budget.current(9 * MINUTE)).toBe(500);
    expect(budget.current(10 * MINUTE)).toBe(600);
    expect(budget.current(45 * MINUTE)).toBe(900);
    expect(budget.current(4 * 60 * MINUTE)).toBe(1_000);
    // A refusal during the climb holds it where it had got to, and the climb starts again.
    expect(budget.refused(700, 300, 20 * MINUTE)).toMatchObject({ from: 700, to: 700 });
    expect(budget.current(29 * MINUTE)).toBe(700);
  });
});
