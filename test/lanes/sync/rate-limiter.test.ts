import { describe, expect, it } from 'vitest';
import { RateLimiter, type Admission, type Permit } from '../../../src/lanes/sync/rate-limiter.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function permitOf(admission: Admission): Permit {
  if (!('permit' in admission)) throw new Error(`expected a permit, got a wait of ${admission.waitMs} ms`);
  return admission.permit;
}

function waitOf(admission: Admission): number {
  if (!('waitMs' in admission)) throw new Error('expected a wait, got a permit');
  return admission.waitMs;
}

/** Starts as many requests as the limiter admits at `now`. */
function drain(limiter: RateLimiter, now: number, tokens = 1): Permit[] {
  const permits: Permit[] = [];
  for (;;) {
    const admission = limiter.tryAcquire(tokens, now);
    if (!('permit' in admission)) return permits;
    permits.push(admission.permit);
  }
}

describe('RateLimiter windows', () => {
  it('admits the ceiling share of RPM in a minute, then exactly when the oldest request leaves', () => {
    const limiter = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    for (let i = 0; i < 98; i++) permitOf(limiter.tryAcquire(1, i * 10));
    // 98 = 0.98 x 100 in the window: the next waits until the first (at 0) leaves at 60 000.
    expect(waitOf(limiter.tryAcquire(1, 1000))).toBe(MINUTE - 1000);
    expect(waitOf(limiter.tryAcquire(1, MINUTE - 1))).toBe(1);
    permitOf(limiter.tryAcquire(1, MINUTE));
    expect(waitOf(limiter.tryAcquire(1, MINUTE))).toBe(10);
  });

  it('with an arrival slack, keeps each request that much longer in its minute (its trip to the API)', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 100, tpm: 1e9, rpd: null },
      burstMs: MINUTE,
      arrivalSlackMs: 1_000,
    });
    for (let i = 0; i < 98; i++) permitOf(limiter.tryAcquire(1, 0));
    expect(limiter.tryAcquire(1, 60_000)).toEqual({ waitMs: 1_000 });
    permitOf(limiter.tryAcquire(1, 61_000));
  });

  it('honours a ceiling of 1 exactly', () => {
    const limiter = new RateLimiter({ limits: { rpm: 5, tpm: 1e9, rpd: null }, ceiling: 1, burstMs: MINUTE });
    expect(drain(limiter, 0)).toHaveLength(5);
  });

  it('paces starts evenly: one interval apart, with a second of them allowed early', () => {
    const limiter = new RateLimiter({ limits: { rpm: 600, tpm: 1e9, rpd: null }, ceiling: 1, burstMs: 1000 });
    // 600 per minute is one per 100 ms; the 1 s burst lets 11 go at once (the first, then 10 early).
    expect(drain(limiter, 0)).toHaveLength(11);
    expect(waitOf(limiter.tryAcquire(1, 0))).toBe(100);
    permitOf(limiter.tryAcquire(1, 100));
    expect(waitOf(limiter.tryAcquire(1, 100))).toBe(100);
  });

  it('paces input tokens too, and gives back what a request was billed below its estimate', () => {
    const limiter = new RateLimiter({ limits: { rpm: 1e6, tpm: 60_000, rpd: null }, ceiling: 1, burstMs: 0 });
    // 60 000 tokens a minute is 1 per ms: 100 tokens book 100 ms.
    const first = permitOf(limiter.tryAcquire(100, 0));
    expect(waitOf(limiter.tryAcquire(100, 0))).toBe(100);
    limiter.succeeded(first, 40, 0);
    expect(waitOf(limiter.tryAcquire(100, 0))).toBe(40);
  });

  it('counts estimated input tokens per minute and replaces them by the billed count', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 600, rpd: null },
      ceiling: 1,
      burstMs: MINUTE,
    });
    const first = permitOf(limiter.tryAcquire(150, 0));
    // 150 + 500 > 600: wait for the first to leave the window.
    expect(waitOf(limiter.tryAcquire(500, 5))).toBe(MINUTE - 5);
    // The API billed only 50: now 500 more fit.
    limiter.succeeded(first, 50, 10);
    expect(limiter.state(10).minuteTokens).toBe(50);
    permitOf(limiter.tryAcquire(500, 10));
    expect(limiter.state(10).minuteTokens).toBe(550);
  });

  it('learns how estimates compare with billed counts and scales new estimates (within 0.5x-4x)', () => {
    const limiter = new RateLimiter({ limits: { rpm: 1000, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    expect(limiter.tokenScale()).toBe(1);
    for (let i = 0; i < 3; i++) limiter.succeeded(permitOf(limiter.tryAcquire(100, i)), 200, i);
    expect(limiter.tokenScale()).toBe(2);
    const scaled = permitOf(limiter.tryAcquire(100, 10));
    expect(scaled.entry.tokens).toBe(200);
    for (let i = 0; i < 50; i++) limiter.succeeded(permitOf(limiter.tryAcquire(100, 20)), 10_000, 20);
    expect(limiter.tokenScale()).toBe(4);
  });

  it('lets a request larger than the TPM limit go alone once the window is empty', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 1000, rpd: null },
      ceiling: 1,
      burstMs: MINUTE,
    });
    permitOf(limiter.tryAcquire(10, 0));
    permitOf(limiter.tryAcquire(10, 100));
    expect(waitOf(limiter.tryAcquire(5000, 200))).toBe(MINUTE + 100 - 200);
    permitOf(limiter.tryAcquire(5000, MINUTE + 100));
    expect(waitOf(limiter.tryAcquire(1, MINUTE + 100))).toBe(MINUTE);
  });

  it('counts a token billed after its request left the window nowhere', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 1000, rpd: null },
      ceiling: 1,
      burstMs: MINUTE,
    });
    const old = permitOf(limiter.tryAcquire(100, 0));
    limiter.succeeded(old, 900, MINUTE + 1);
    expect(limiter.state(MINUTE + 1).minuteTokens).toBe(0);
    permitOf(limiter.tryAcquire(1000, MINUTE + 1));
  });

  it('holds requests per day over a sliding day', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 1e9, rpd: 10 },
      ceiling: 1,
      burstMs: MINUTE,
    });
    for (let i = 0; i < 10; i++) permitOf(limiter.tryAcquire(1, i * MINUTE));
    expect(waitOf(limiter.tryAcquire(1, 10 * MINUTE))).toBe(DAY - 10 * MINUTE);
    permitOf(limiter.tryAcquire(1, DAY));
    expect(limiter.state(DAY).dayRequests).toBe(10);
  });

  it('says how many requests it would start within the minute: none once the day’s quota is used', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 1e9, rpd: 10 },
      ceiling: 1,
      burstMs: MINUTE,
    });
    expect(limiter.headroom(0)).toBe(10);
    for (let i = 0; i < 7; i++) permitOf(limiter.tryAcquire(1, i * MINUTE));
    expect(limiter.headroom(7 * MINUTE)).toBe(3);
    drain(limiter, 7 * MINUTE);
    expect(limiter.headroom(7 * MINUTE)).toBe(0);
    // A day after the first requests their quota is back.
    expect(limiter.headroom(DAY + 7 * MINUTE)).toBe(10);
    // No daily cap: a minute's worth; resting after a 429 for longer than a minute: none.
    const perMinute = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, ceiling: 1 });
    expect(perMinute.headroom(0)).toBe(100);
    perMinute.throttled(permitOf(perMinute.tryAcquire(1, 0)), 5 * MINUTE, 0);
    expect(perMinute.headroom(MINUTE)).toBe(0);
    expect(perMinute.headroom(4 * MINUTE)).toBeGreaterThan(0);
    expect(new RateLimiter({ limits: { rpm: 0, tpm: 0, rpd: 0 } }).headroom(0)).toBe(0);
  });

  it('is unusable when a limit is 0 (priority below usage tier 2)', () => {
    const limiter = new RateLimiter({ limits: { rpm: 0, tpm: 0, rpd: 0 } });
    expect(limiter.usable).toBe(false);
    expect(waitOf(limiter.tryAcquire(1, 0))).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses nonsensical settings', () => {
    const limits = { rpm: 1, tpm: 1, rpd: null };
    expect(() => new RateLimiter({ limits, ceiling: 1.5 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limits, floor: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limits, decrease: 1 })).toThrow(RangeError);
  });
});

describe('RateLimiter adapting to 429s', () => {
  it("pauses every start for the server's RetryInfo delay", () => {
    const limiter = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    const permit = permitOf(limiter.tryAcquire(1, 0));
    limiter.throttled(permit, 90_000, 100);
    expect(waitOf(limiter.tryAcquire(1, 100))).toBe(90_000);
    expect(waitOf(limiter.tryAcquire(1, 80_000))).toBe(10_100);
    permitOf(limiter.tryAcquire(1, 90_100));
  });

  it('steps back 5% from the rate sent when refused at the configured limit (the limit is right)', () => {
    const limiter = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    const permits = drain(limiter, 0);
    expect(permits).toHaveLength(98);
    limiter.throttled(permits[0] as Permit, 0, 100);
    expect(limiter.share(100)).toBeCloseTo(0.98 * 0.95, 9);
  });

  it('backs off to 0.7x the rate sent when refused below the configured limit (it is lower)', () => {
    const limiter = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    const permits = Array.from({ length: 50 }, (_, index) => permitOf(limiter.tryAcquire(1, index * 100)));
    limiter.throttled(permits[49] as Permit, 0, 5000);
    expect(limiter.share(5000)).toBeCloseTo(0.5 * 0.7, 9);
  });

  it('takes the rate actually sent as where the limit is, when it is below the share', () => {
    const limiter = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    const permits = [0, 1, 2, 3, 4].map((at) => permitOf(limiter.tryAcquire(1, at * 1000)));
    // Refused after 5 requests in the minute: the real limit is about 5 a minute, not 98.
    limiter.throttled(permits[4] as Permit, 0, 5000);
    expect(limiter.share(5000)).toBeCloseTo(0.05 * 0.7, 9);
  });

  it('shrinks once for a burst of 429s of requests sent before the back-off', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 100, tpm: 1e9, rpd: null },
      burstMs: MINUTE,
      recoveryPerMinute: 0.0001,
      probePerMinute: 0.0001,
    });
    const burst = Array.from({ length: 40 }, (_, index) => permitOf(limiter.tryAcquire(1, index)));
    for (const [index, permit] of burst.entries()) limiter.throttled(permit, 1000, 100 + index);
    const once = 0.4 * 0.7;
    expect(limiter.share(140)).toBeCloseTo(once, 5);
    // A request sent after the back-off that is refused again shrinks it further.
    const later = permitOf(limiter.tryAcquire(1, MINUTE + 40));
    limiter.throttled(later, 1000, MINUTE + 41);
    // The first 40 left the window by 60 039: one request (0.01 of the limit) was sent in it.
    expect(limiter.share(MINUTE + 41)).toBeCloseTo(0.01, 5);
  });

  it('backs off exponentially, capped, when a 429 carries no RetryInfo; a success resets it', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 1e9, rpd: null },
      backoffBaseMs: 1000,
      backoffMaxMs: 5000,
      burstMs: MINUTE,
    });
    let now = 0;
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const permit = permitOf(limiter.tryAcquire(1, now));
      limiter.throttled(permit, undefined, now);
      const wait = waitOf(limiter.tryAcquire(1, now));
      waits.push(wait);
      now += wait;
    }
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000]);
    limiter.succeeded(permitOf(limiter.tryAcquire(1, now)), undefined, now);
    limiter.throttled(permitOf(limiter.tryAcquire(1, now + 1)), undefined, now + 1);
    expect(waitOf(limiter.tryAcquire(1, now + 1))).toBe(1000);
  });

  it('never shrinks below the floor', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 1000, tpm: 1e9, rpd: null },
      floor: 0.2,
      burstMs: MINUTE,
    });
    for (let now = 0; now < 20; now++) limiter.throttled(permitOf(limiter.tryAcquire(1, now)), 0, now);
    expect(limiter.share(20)).toBeCloseTo(0.2, 4);
  });

  it('climbs back fast to just under the refused rate, then probes slowly up to the ceiling', () => {
    const limiter = new RateLimiter({ limits: { rpm: 100, tpm: 1e9, rpd: null }, burstMs: MINUTE });
    for (let i = 0; i < 60; i++) permitOf(limiter.tryAcquire(1, i * 1000));
    // 60 sent in the last minute were refused: 0.6 is where the limit is.
    limiter.throttled(permitOf(limiter.tryAcquire(1, MINUTE)), 0, MINUTE);
    const start = MINUTE;
    expect(limiter.share(start)).toBeCloseTo(0.7 * 0.6, 9);
    // 0.1 a minute up to 0.95 x 0.6 = 0.57: 1.5 minutes.
    expect(limiter.share(start + 1.5 * MINUTE)).toBeCloseTo(0.57, 9);
    // Then 0.02 a minute.
    expect(limiter.share(start + 6.5 * MINUTE)).toBeCloseTo(0.67, 9);
    expect(limiter.share(start + 100 * MINUTE)).toBe(0.98);
  });

  it('admits fewer requests per minute while the share is low', () => {
    const limiter = new RateLimiter({
      limits: { rpm: 100, tpm: 1e9, rpd: null },
      recoveryPerMinute: 0.0001,
      burstMs: MINUTE,
    });
    const first = Array.from({ length: 50 }, () => permitOf(limiter.tryAcquire(1, 0)));
    limiter.throttled(first[0] as Permit, 0, 0);
    // 0.7 x 0.5 = 0.35 of 100: 35 in the window, and the 50 sent are still in it.
    expect(drain(limiter, 1)).toHaveLength(0);
    expect(drain(limiter, MINUTE)).toHaveLength(35);
  });
});

/**
 * A long run against a simulated API with a sliding-window RPM quota: requests take `latencyMs`,
 * the API refuses those over its real limit with a RetryInfo of when the window has room, and the
 * client keeps `concurrency` requests in flight. Returns accepted and refused counts after warm-up.
 */
function simulate(options: {
  configuredRpm: number;
  realRpm: number;
  minutes: number;
  warmupMinutes: number;
  latencyMs: number;
  concurrency: number;
}) {
  const limiter = new RateLimiter({ limits: { rpm: options.configuredRpm, tpm: 1e12, rpd: null } });
  const accepted: number[] = [];
  let refused = 0;
  let acceptedAfterWarmup = 0;
  const inFlight: Array<{ doneAt: number; permit: Permit; ok: boolean; retryMs: number }> = [];
  let now = 0;
  let nextStart = 0;
  const end = options.minutes * MINUTE;
  const warm = options.warmupMinutes * MINUTE;
  while (now < end) {
    // Settle what finished.
    for (let i = inFlight.length - 1; i >= 0; i--) {
      const request = inFlight[i];
      if (!request || request.doneAt > now) continue;
      inFlight.splice(i, 1);
      if (request.ok) limiter.succeeded(request.permit, 1, now);
      else limiter.throttled(request.permit, request.retryMs, now);
    }
    // Start what the limiter admits.
    while (inFlight.length < options.concurrency && nextStart <= now) {
      const admission = limiter.tryAcquire(1, now);
      if ('waitMs' in admission) {
        nextStart = now + admission.waitMs;
        break;
      }
      while (accepted.length > 0 && (accepted[0] as number) <= now - MINUTE) accepted.shift();
      const ok = accepted.length < options.realRpm;
      const retryMs = ok ? 0 : (accepted[0] as number) + MINUTE - now;
      if (ok) {
        accepted.push(now);
        if (now >= warm) acceptedAfterWarmup += 1;
      } else if (now >= warm) refused += 1;
      inFlight.push({ doneAt: now + options.latencyMs, permit: admission.permit, ok, retryMs });
    }
    const nextDone = Math.min(...inFlight.map((request) => request.doneAt));
    now = Math.max(now + 1, Math.min(nextDone, Math.max(nextStart, now + 1)));
  }
  const minutes = options.minutes - options.warmupMinutes;
  return {
    perMinute: acceptedAfterWarmup / minutes,
    refusedShare: refused / (acceptedAfterWarmup + refused),
  };
}

describe('RateLimiter over a long run', () => {
  it('holds at least 95% of a correctly configured RPM limit with no 429s', () => {
    const result = simulate({
      configuredRpm: 600,
      realRpm: 600,
      minutes: 30,
      warmupMinutes: 2,
      latencyMs: 700,
      concurrency: 50,
    });
    expect(result.refusedShare).toBe(0);
    expect(result.perMinute).toBeGreaterThanOrEqual(0.95 * 600);
  });

  it('adapts to a real limit lower than configured: under 1% 429s, still most of the real limit', () => {
    const result = simulate({
      configuredRpm: 1000,
      realRpm: 600,
      minutes: 60,
      warmupMinutes: 5,
      latencyMs: 700,
      concurrency: 50,
    });
    expect(result.refusedShare).toBeLessThanOrEqual(0.01);
    expect(result.perMinute).toBeGreaterThanOrEqual(0.75 * 600);
  });
});
