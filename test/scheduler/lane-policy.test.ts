import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/emulator/seeded-random.js';
import type { Lane } from '../../src/lanes/lane.js';
import {
  chainFinishMs,
  chooseLanes,
  type LaneDecision,
  type LaneLatency,
  type LaneRoom,
  type ReadyRecord,
  type SchedulingInput,
} from '../../src/scheduler/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Batch slow 2 h, flex 10 min, standard 1 min, priority 20 s (typical = slow for easy arithmetic). */
const LATENCY: Record<Lane, LaneLatency> = {
  batch: { typicalMs: HOUR, slowMs: 2 * HOUR },
  flex: { typicalMs: 10 * MINUTE, slowMs: 10 * MINUTE },
  standard: { typicalMs: MINUTE, slowMs: MINUTE },
  priority: { typicalMs: 20_000, slowMs: 20_000 },
};

const OPEN: LaneRoom = { usable: true, slots: Number.POSITIVE_INFINITY };
const ROOM: Record<Lane, LaneRoom> = { batch: OPEN, flex: OPEN, standard: OPEN, priority: OPEN };

/** A record whose request costs $1 on the cheap lanes, $2 standard, $3.6 priority. */
function record(id: string, remaining: number): ReadyRecord {
  return { id, remaining, cost: { batch: 1, flex: 1, standard: 2, priority: 3.6 } };
}

function input(overrides: Partial<SchedulingInput>): SchedulingInput {
  return {
    mode: 'auto',
    now: 0,
    deadline: null,
    ready: [],
    latency: LATENCY,
    room: ROOM,
    budget: { maxCostUsd: null, committedUsd: 0, reservedUsd: 0 },
    ...overrides,
  };
}

function lanes(decisions: LaneDecision[]): Record<string, Lane | null> {
  return Object.fromEntries(decisions.map((decision) => [decision.recordId, decision.lane]));
}

describe('chainFinishMs', () => {
  it('plans this step at the slow latency and the rest at flex speed after batch, at the same lane otherwise', () => {
    expect(chainFinishMs('batch', 1, LATENCY)).toBe(2 * HOUR);
    expect(chainFinishMs('batch', 4, LATENCY)).toBe(2 * HOUR + 3 * 10 * MINUTE);
    expect(chainFinishMs('flex', 4, LATENCY)).toBe(40 * MINUTE);
    expect(chainFinishMs('standard', 4, LATENCY)).toBe(4 * MINUTE);
  });
});

describe('fixed modes', () => {
  it.each([
    ['batch', 'batch'],
    ['flex', 'flex'],
    ['realtime', 'standard'],
  ] as const)('mode %s sends every record to %s, whatever the room', (mode, lane) => {
    const decisions = chooseLanes(
      input({
        mode,
        ready: [record('a', 1), record('b', 30)],
        room: { ...ROOM, [lane]: { usable: true, slots: 0 } },
      }),
    );
    expect(decisions.map((decision) => [decision.lane, decision.reason])).toEqual([
      [lane, 'mode'],
      [lane, 'mode'],
    ]);
    expect(decisions[0]?.explanation).toContain(`execution.mode ${mode}`);
  });

  it('holds what would cross max_cost, deepest chains first', () => {
    const decisions = chooseLanes(
      input({
        mode: 'realtime',
        ready: [record('shallow', 1), record('deep', 9), record('mid', 5)],
        budget: { maxCostUsd: 5, committedUsd: 0.5, reservedUsd: 0 },
      }),
    );
    expect(decisions.map((decision) => [decision.recordId, decision.lane])).toEqual([
      ['deep', 'standard'],
      ['mid', 'standard'],
      ['shallow', null],
    ]);
    const held = decisions[2];
    expect(held?.reason).toBe('max_cost');
    expect(held?.explanation).toMatch(
      /held by max_cost: \$4\.5000 committed of \$5\.0000; shallow needs \$2\.0000/,
    );
  });

  it('says a cap below a hundredth of a cent as it is: it read "$0.0000 committed of $0.0000"', () => {
    const [held] = chooseLanes(
      input({
        mode: 'realtime',
        ready: [record('tiny', 1)],
        budget: { maxCostUsd: 0.00001, committedUsd: 0, reservedUsd: 0 },
      }),
    );
    expect(held?.reason).toBe('max_cost');
    expect(held?.explanation).toMatch(/^held by max_cost: \$0\.0000 committed of \$0\.000010; tiny needs \$/);
  });
});

describe('auto without a deadline', () => {
  it('sends the critical path to flex and the width to batch', () => {
    // Deepest 20: 200 min on flex. Batch (2 h) + 7 more flex steps = 190 min fits; 9 more do not.
    const decisions = chooseLanes(input({ ready: [record('deep', 20), record('w8', 8), record('w10', 10)] }));
    expect(lanes(decisions)).toEqual({ deep: 'flex', w8: 'batch', w10: 'flex' });
    const byId = Object.fromEntries(decisions.map((decision) => [decision.recordId, decision]));
    expect(byId.deep?.reason).toBe('critical_path');
    expect(byId.w8?.reason).toBe('width');
    expect(byId.w8?.explanation).toContain('the critical path (20 deep on flex)');
    expect(byId.w8?.chainFinishMs).toBe(2 * HOUR + 7 * 10 * MINUTE);
  });

  it('counts chains in flight toward the critical path (longestRemaining)', () => {
    const decisions = chooseLanes(input({ ready: [record('a', 10)], longestRemaining: 40 }));
    expect(lanes(decisions)).toEqual({ a: 'batch' });
  });

  it('never pays for standard or priority, even with money to spare', () => {
    const decisions = chooseLanes(
      input({
        ready: [record('a', 50), record('b', 50)],
        room: { ...ROOM, flex: { usable: true, slots: 1 } },
      }),
    );
    expect(decisions.map((decision) => decision.lane)).toEqual(['flex', null]);
    expect(decisions[1]).toMatchObject({ reason: 'no_room' });
    expect(decisions[1]?.explanation).toContain('waits for room on flex');
  });

  it('keeps the width on batch while flex is full', () => {
    const decisions = chooseLanes(
      input({
        ready: [record('deep', 30), record('wide', 2)],
        room: { ...ROOM, flex: { usable: true, slots: 0 } },
      }),
    );
    expect(lanes(decisions)).toEqual({ deep: null, wide: 'batch' });
  });

  it('sends equally deep chains by batch when Flex’s quota cannot carry them within the critical path', () => {
    // 5,000 chains of 5: 50 minutes deep on Flex, but Flex starts 100 requests a day. Whatever is
    // left to Flex waits days for its quota: every step goes by batch (5 x 2 h) instead.
    const ready = Array.from({ length: 50 }, (_, index) => record(`c${index}`, 5));
    const flexDrainMs = (records: number) => (records / 100) * 24 * HOUR;
    const decisions = chooseLanes(input({ ready, chains: new Map([[5, 5_000]]), flexDrainMs }));
    expect(new Set(decisions.map((decision) => decision.lane))).toEqual(new Set(['batch']));
    expect(decisions[0]?.reason).toBe('width');
    expect(decisions[0]?.explanation).toContain(
      "within the time Flex's quota allows (5 deep, 0 records left to flex) (10h00m)",
    );
    // The same records when Flex's quota carries their chains: the critical path on Flex, as before.
    const roomy = chooseLanes(
      input({ ready, chains: new Map([[5, 50]]), flexDrainMs: (records) => records * 1_000 }),
    );
    expect(new Set(roomy.map((decision) => decision.lane))).toEqual(new Set(['flex']));
    expect(roomy[0]?.explanation).toContain('the critical path (5 deep on flex)');
  });

  it('uses batch for everything when flex cannot be used at all', () => {
    const decisions = chooseLanes(
      input({ ready: [record('deep', 30)], room: { ...ROOM, flex: { usable: false, slots: 0 } } }),
    );
    expect(decisions[0]).toMatchObject({ lane: 'batch', reason: 'best_effort' });
  });
});

describe('auto with a deadline', () => {
  it('uses batch where it meets the deadline and flex where only flex does', () => {
    const decisions = chooseLanes(
      input({ deadline: 3 * HOUR, ready: [record('a', 6), record('b', 12), record('c', 18)] }),
    );
    // a: batch 2 h + 50 min fits 3 h; b: flex 120 min fits; c: flex 180 min fits exactly.
    expect(lanes(decisions)).toEqual({ a: 'batch', b: 'flex', c: 'flex' });
    expect(decisions.find((decision) => decision.recordId === 'a')?.explanation).toContain(
      'within the deadline',
    );
  });

  it('pays for standard only when flex would miss the deadline, and says what it costs', () => {
    const decisions = chooseLanes(input({ deadline: HOUR, ready: [record('deep', 30), record('short', 3)] }));
    expect(lanes(decisions)).toEqual({ deep: 'standard', short: 'flex' });
    const deep = decisions[0];
    expect(deep?.reason).toBe('deadline');
    expect(deep?.explanation).toMatch(/flex would miss it \(5h00m > 1h00m\), \+\$1\.0000 within max_cost/);
  });

  it('pays for priority only when standard would miss too', () => {
    const decisions = chooseLanes(input({ deadline: 10 * MINUTE, ready: [record('deep', 20)] }));
    expect(decisions[0]).toMatchObject({ lane: 'priority', reason: 'deadline' });
  });

  it('reserves the cheap price of every unfinished record before paying for speed', () => {
    // Cap 10: reserved 6 for blocked records, 3 for the three ready: $1 spare buys one upgrade.
    const decisions = chooseLanes(
      input({
        deadline: HOUR,
        ready: [record('a', 30), record('b', 29), record('c', 28)],
        budget: { maxCostUsd: 10, committedUsd: 0, reservedUsd: 6 },
      }),
    );
    expect(decisions.map((decision) => [decision.lane, decision.reason])).toEqual([
      ['standard', 'deadline'],
      ['flex', 'best_effort'],
      ['flex', 'best_effort'],
    ]);
    expect(decisions[1]?.explanation).toContain('best effort');
  });

  it('takes the fastest lane with room when none meets the deadline', () => {
    const decisions = chooseLanes(
      input({
        deadline: MINUTE,
        ready: [record('deep', 20)],
        room: { ...ROOM, priority: { usable: false, slots: 0 }, standard: { usable: true, slots: 0 } },
      }),
    );
    expect(decisions[0]).toMatchObject({ lane: 'flex', reason: 'best_effort' });
  });

  it('sends a record hedged off a stalled batch job to flex, never back to batch', () => {
    const hedged = { ...record('h', 1), hedged: true };
    // A week's deadline: batch would meet it, and takes the record that is not hedged.
    const decisions = chooseLanes(input({ deadline: 7 * 24 * HOUR, ready: [hedged, record('w', 1)] }));
    expect(decisions.map((decision) => [decision.recordId, decision.lane, decision.reason])).toEqual([
      ['h', 'flex', 'hedge'],
      ['w', 'batch', 'width'],
    ]);
    // Flex full: it waits for flex rather than go into another batch job.
    const full = chooseLanes(input({ ready: [hedged], room: { ...ROOM, flex: { usable: true, slots: 0 } } }));
    expect(full[0]).toMatchObject({ lane: null, reason: 'no_room' });
    expect(full[0]?.explanation).toContain('hedged off a stalled batch job');
    // A deadline flex would miss: the cheapest synchronous lane that meets it.
    const late = chooseLanes(input({ deadline: 5 * MINUTE, ready: [hedged] }));
    expect(late[0]).toMatchObject({ lane: 'standard', reason: 'hedge' });
  });

  it('decides a hedged record like any other when Flex’s quota cannot start it before another batch turnaround', () => {
    const hedged = { ...record('h', 1), hedged: true };
    // Flex's quota used up for the day: the next Flex request starts in 20 hours, a batch answers in 2.
    const decisions = chooseLanes(input({ ready: [hedged], flexDrainMs: () => 20 * HOUR }));
    expect(decisions[0]).toMatchObject({ lane: 'batch', reason: 'width' });
    expect(decisions[0]?.explanation).toMatch(
      /^its batch job stalled, but Flex's quota cannot start it before another batch turnaround; width: /,
    );
    // Room on Flex's quota: hedged as before.
    const roomy = chooseLanes(input({ ready: [hedged], flexDrainMs: () => MINUTE }));
    expect(roomy[0]).toMatchObject({ lane: 'flex', reason: 'hedge' });
  });

  it('counts the synchronous lanes against one shared pool of slots', () => {
    const decisions = chooseLanes(
      input({
        deadline: 30 * MINUTE,
        ready: [record('a', 10), record('b', 10), record('c', 10), record('d', 10)],
        syncSlots: 2,
      }),
    );
    // Flex (10 x 10 min) misses 30 min; standard meets it. Only two may start between the three
    // synchronous lanes; the others take the fastest lane left with room, batch, saying the miss.
    expect(decisions.map((decision) => [decision.lane, decision.reason])).toEqual([
      ['standard', 'deadline'],
      ['standard', 'deadline'],
      ['batch', 'best_effort'],
      ['batch', 'best_effort'],
    ]);
  });

  it('skips priority when the usage tier has none', () => {
    const decisions = chooseLanes(
      input({
        deadline: 10 * MINUTE,
        ready: [record('deep', 20)],
        room: { ...ROOM, priority: { usable: false, slots: 0 } },
      }),
    );
    expect(decisions[0]).toMatchObject({ lane: 'standard', reason: 'best_effort' });
  });

  it('holds records the cap cannot pay for at all', () => {
    const decisions = chooseLanes(
      input({
        deadline: HOUR,
        ready: [record('a', 3), record('b', 2)],
        budget: { maxCostUsd: 1.5, committedUsd: 0, reservedUsd: 0 },
      }),
    );
    expect(decisions.map((decision) => [decision.lane, decision.reason])).toEqual([
      ['flex', 'critical_path'],
      [null, 'max_cost'],
    ]);
  });
});

describe('invariants over many random situations', () => {
  it('never crosses the cap, never uses a lane without room, decides each record once', () => {
    const next = mulberry32(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    for (let round = 0; round < 500; round++) {
      const ready = Array.from({ length: 1 + Math.floor(next() * 20) }, (_, index) => {
        const cheap = 0.1 + next();
        return {
          id: `r${index}`,
          remaining: 1 + Math.floor(next() * 40),
          cost: { batch: cheap, flex: cheap, standard: cheap * 2, priority: cheap * 3.6 },
        };
      });
      const room = {} as Record<Lane, LaneRoom>;
      for (const lane of ['batch', 'flex', 'standard', 'priority'] as const)
        room[lane] = { usable: next() > 0.15, slots: pick([0, 1, 3, Number.POSITIVE_INFINITY]) };
      const committed = next() * 5;
      const cap = pick([null, committed + next() * 20]);
      const situation = input({
        mode: pick(['auto', 'auto', 'auto', 'batch', 'flex', 'realtime'] as const),
        deadline: pick([null, next() * 10 * HOUR]),
        ready,
        room,
        budget: { maxCostUsd: cap, committedUsd: committed, reservedUsd: next() * 5 },
      });
      const decisions = chooseLanes(situation);
      expect(new Set(decisions.map((decision) => decision.recordId)).size).toBe(ready.length);
      const spent = decisions.reduce((sum, decision) => sum + decision.costUsd, 0);
      if (cap !== null) expect(committed + spent).toBeLessThanOrEqual(cap + 1e-9);
      for (const decision of decisions) {
        expect(decision.explanation.length).toBeGreaterThan(0);
        if (decision.lane === null) expect(['max_cost', 'no_room']).toContain(decision.reason);
      }
      if (situation.mode !== 'auto') continue;
      for (const lane of ['batch', 'flex', 'standard', 'priority'] as const) {
        const used = decisions.filter((decision) => decision.lane === lane).length;
        expect(used).toBeLessThanOrEqual(room[lane].usable ? room[lane].slots : 0);
      }
      if (situation.deadline === null) {
        expect(
          decisions.some((decision) => decision.lane === 'standard' || decision.lane === 'priority'),
        ).toBe(false);
      }
    }
  });
});

describe('auto when Flex fails', () => {
  it('sends the critical path by batch while Flex rests, and waits for a Flex that is only full', () => {
    const resting = chooseLanes(
      input({
        ready: [record('deep', 6)],
        room: { ...ROOM, flex: { usable: true, slots: 0, resting: true } },
      }),
    );
    expect(lanes(resting)).toEqual({ deep: 'batch' });
    expect(resting[0]?.explanation).toMatch(
      /^flex is resting \(its requests failed through every retry\); best effort: /,
    );
    const full = chooseLanes(
      input({ ready: [record('deep', 6)], room: { ...ROOM, flex: { usable: true, slots: 0 } } }),
    );
    expect(lanes(full)).toEqual({ deep: null });
  });

  it('sends a record whose Flex request timed out on another lane: batch without a deadline, the cheapest that meets one', () => {
    const timedOut = { ...record('deep', 6), avoid: 'flex' as const };
    const cheap = chooseLanes(input({ ready: [timedOut, record('other', 6)] }));
    expect(lanes(cheap)).toEqual({ deep: 'batch', other: 'flex' });
    expect(cheap.find((decision) => decision.recordId === 'deep')?.explanation).toMatch(
      /^its flex request got no answer within the timeout; best effort: /,
    );
    const urgent = chooseLanes(input({ ready: [timedOut], deadline: HOUR }));
    expect(lanes(urgent)).toEqual({ deep: 'standard' });
  });
});
