import { describe, expect, it } from 'vitest';
import { BoundedTasks } from '../../src/runner/bounded-tasks.js';

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('BoundedTasks', () => {
  it('never runs more than its limit at once and finishes every task', async () => {
    const tasks = new BoundedTasks(3);
    let inFlight = 0;
    let peak = 0;
    const finished: number[] = [];
    for (let index = 0; index < 20; index++) {
      await tasks.run(async () => {
        peak = Math.max(peak, ++inFlight);
        await tick(index % 4);
        inFlight--;
        finished.push(index);
      });
    }
    await tasks.drain();
    expect(peak).toBe(3);
    expect(finished.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('rethrows the first task error from drain, after the other tasks have settled', async () => {
    const tasks = new BoundedTasks(4);
    let settled = 0;
    await tasks.run(async () => {
      await tick(1);
      throw new Error('disk full');
    });
    await tasks.run(async () => {
      await tick(5);
      settled++;
    });
    await expect(tasks.drain()).rejects.toThrow('disk full');
    expect(settled).toBe(1);
  });

  it('refuses a limit below one', () => {
    expect(() => new BoundedTasks(0)).toThrow(RangeError);
  });
});
