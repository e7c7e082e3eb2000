import { describe, expect, it } from 'vitest';
import { count, counted, duration, requestsOf, usd } from '../src/quantities.js';

describe('quantities', () => {
  it('groups thousands and says one or many', () => {
    expect(count(1_234_567)).toBe('1,234,567');
    expect(count(2.6)).toBe('3');
    expect(counted(1, 'record')).toBe('1 record');
    expect(counted(0, 'record')).toBe('0 records');
    expect(counted(12_000, 'request')).toBe('12,000 requests');
  });

  it('names the records of grouped requests only when they differ from the requests', () => {
    expect(requestsOf(4, 4)).toBe('4 requests');
    expect(requestsOf(1, 1)).toBe('1 request');
    expect(requestsOf(2, 8)).toBe('2 requests (8 records)');
  });

  it('says durations and money at a readable precision', () => {
    expect(duration(44_600)).toBe('45s');
    expect(duration(12 * 60_000)).toBe('12m');
    expect(duration((3 * 60 + 5) * 60_000)).toBe('3h 05m');
    expect(duration((52 * 60 + 10) * 60_000)).toBe('2d 04h');
    expect(duration(-5)).toBe('0s');
    expect(duration(20)).toBe('0s');
    expect(duration(260)).toBe('0.3s');
    expect(duration(949)).toBe('0.9s');
    expect(duration(950)).toBe('1s');
    expect(usd(0)).toBe('$0.00');
    expect(usd(0.004_213)).toBe('$0.0042');
    expect(usd(12.345)).toBe('$12.35');
  });
});
