import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../src/emulator/fault-injector.js';

describe('FaultInjector', () => {
  it('consumes byKey faults in order, then lets the key succeed; realtime calls (no key) skip byKey', () => {
    const faults = new FaultInjector(1, { byKey: { a: ['safety', 'invalid_json'] } });
    expect([faults.recordFault('a'), faults.recordFault('a'), faults.recordFault('a')]).toEqual([
      'safety',
      'invalid_json',
      null,
    ]);
    expect(faults.recordFault(null)).toBeNull();
    faults.replace({ byKey: { a: ['empty'] } });
    expect(faults.recordFault('a')).toBe('empty');
  });

  it('draws rates from the seed: same seed, same faults; roughly the asked share', () => {
    const draw = (seed: number) => {
      const faults = new FaultInjector(seed, { rates: { safety: 0.2 } });
      return Array.from({ length: 1000 }, () => faults.recordFault('k'));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const share = draw(7).filter((fault) => fault === 'safety').length / 1000;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.25);
  });

  it('ends jobs by sequence, then by rate; the sequence restarts with a new plan', () => {
    const faults = new FaultInjector(1, { jobSequence: ['none', 'job_failed', 'job_expired'] });
    expect([
      faults.nextJobFault(),
      faults.nextJobFault(),
      faults.nextJobFault(),
      faults.nextJobFault(),
    ]).toEqual(['none', 'job_failed', 'job_expired', 'none']);
    faults.replace({ jobRates: { failed: 1 } });
    expect(faults.nextJobFault()).toBe('job_failed');
    faults.replace({ jobSequence: ['job_expired'] });
    expect(faults.nextJobFault()).toBe('job_expired');
  });

  it('fires HTTP faults on matching calls up to count, and adds delays per kind plus any', () => {
    const faults = new FaultInjector(1, {
      http: [
        { kind: 'status_503', match: 'create', count: 2 },
        { kind: 'drop', count: 1 },
      ],
      slowMs: { get: 30, any: 5 },
    });
    expect(faults.httpFault('get')).toBe('drop');
    expect(faults.httpFault('get')).toBeNull();
    expect([faults.httpFault('create'), faults.httpFault('create'), faults.httpFault('create')]).toEqual([
      'status_503',
      'status_503',
      null,
    ]);
    expect(faults.delayMs('get')).toBe(35);
    expect(faults.delayMs('list')).toBe(5);
  });
});
