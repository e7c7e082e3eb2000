import type { Lane } from '../lanes/lane.js';
import { autoTarget, type ChainDepths } from './auto-target.js';
import { chainFinishMs } from './chain-finish.js';
import type { LaneLatency } from './latency.js';
import { usdFine } from '../quantities.js';

export { chainFinishMs } from './chain-finish.js';

/**
 * Which lane each ready record goes to now: a pure function of the records' chain depths, the
 * lanes' learned latencies, the deadline, the budget and the lanes' room. Every decision carries
 * its reason, for the log and the run summary.
 *
 * `execution.mode` fixes the lane (`batch`, `flex`, `realtime` = standard), still within the cost
 * cap. `auto` plans against a target time: the deadline, or without one the time the deepest chain
 * needs on Flex (the critical path), made longer when Flex's rate could not carry in that time the
 * records it would leave to Flex (`autoTarget`: a million records of equally deep chains would
 * otherwise all wait for a lane of 10,000 requests a day). A record goes to the cheapest lane whose
 * finish time for the rest of its chain stays within the target, trying batch, flex, standard,
 * priority in that order:
 * - Batch and Flex cost the same (half of standard). A record whose chain still ends in time when
 *   this step waits for a batch turnaround (planned at its slow, 90th-percentile figure) goes to
 *   Batch: that is the width, and it spares Flex's quota for the records that need it.
 * - The critical path goes to Flex: a chain as deep as the deepest finishes only by Flex's speed.
 * - Standard or priority only when Flex cannot meet the deadline, and only if the extra cost over
 *   the cheap lanes fits the budget left after reserving the cheap price of every unfinished record.
 * - Lanes with no room this round (their quota or concurrency is full) are skipped. Without a
 *   deadline a critical-path record waits a round for Flex rather than lengthen the critical path
 *   on Batch; with one, when no lane meets it, the fastest affordable lane is taken and the miss said.
 * - A resting Flex (its requests failed through every retry: shed all along, an outage) is not
 *   waited for, nor is Flex by a record whose Flex request timed out (each call sent again there may
 *   be billed, and a Flex slower than its timeout never answers): the record goes by Batch at the
 *   same price. Waiting held the critical path for as
 *   long as Flex shed, forever on a Flex that stays down, while Batch was answering.
 * - The cost cap is hard: a record whose cost would take what is committed over `max_cost` is held,
 *   never sent.
 * - A record hedged off a stalled batch job goes to Flex (or, with a deadline Flex would miss, the
 *   cheapest synchronous lane that meets it within budget), never into another batch job; unless
 *   Flex's quota cannot start the round's hedged records before another batch turnaround would
 *   answer them, when Flex is not a way around the stall (the record is decided as any other).
 */

/** `execution.mode`. */
export type ExecutionMode = 'batch' | 'flex' | 'realtime' | 'auto';

/** A ready record as the policy sees it. */
export interface ReadyRecord {
  id: string;
  /** Records from this one to the end of its chain, itself included (>= 1). */
  remaining: number;
  /** Estimated USD of this record's request on each lane. */
  cost: Record<Lane, number>;
  /** Its batch job stalled and was cancelled: it goes to a synchronous lane, not into another job. */
  hedged?: boolean;
  /** Its last request on this lane got no answer within the lane's timeout: it goes on another lane. */
  avoid?: Lane;
}

/** What a lane can take this round. */
export interface LaneRoom {
  /** False when the lane cannot be used at all (no quota, e.g. priority below usage tier 2). */
  usable: boolean;
  /** Records it can start now (free concurrency or quota); Infinity when it queues without limit. */
  slots: number;
  /** Its requests failed through every retry (shed, an outage) and it rests: nothing waits for it. */
  resting?: boolean;
}

export interface SchedulingInput {
  mode: ExecutionMode;
  now: number;
  /** Epoch ms by which every record should be done, or null. */
  deadline: number | null;
  /** Ready records; any order. */
  ready: readonly ReadyRecord[];
  /** The longest remaining chain among all unfinished records (in flight ones too); default: of `ready`. */
  longestRemaining?: number;
  /**
   * Every chain with records still to run (a ready or in-flight record and those blocked behind it),
   * by records left; default: the chains of `ready`. What Flex would have to carry is counted on it.
   */
  chains?: ChainDepths;
  /** How long Flex takes to start this many more requests at its limits; omitted: no limit. */
  flexDrainMs?: (records: number) => number;
  latency: Record<Lane, LaneLatency>;
  room: Record<Lane, LaneRoom>;
  /**
   * Records the synchronous lanes can start between them this round (`execution.sync_concurrency`
   * is one pool for flex, standard and priority); default: no limit beyond each lane's room.
   */
  syncSlots?: number;
  budget: {
    /** `execution.max_cost` in USD, or null. */
    maxCostUsd: number | null;
    /** Spent plus the estimated cost of everything in flight. */
    committedUsd: number;
    /** The cheap-lane cost of unfinished records that are not in `ready` (blocked behind their chain). */
    reservedUsd: number;
  };
}

/** Why a lane was chosen (or the record held). */
export type DecisionReason =
  | 'mode' // execution.mode fixes the lane
  | 'width' // via batch the chain still ends within the target
  | 'critical_path' // only Flex's speed keeps the chain within the target
  | 'deadline' // Flex would miss the deadline; a faster, dearer lane meets it within budget
  | 'best_effort' // no lane meets the target; the fastest affordable one
  | 'hedge' // its batch job stalled: sent on a synchronous lane instead
  | 'max_cost' // held: sending it would cross max_cost
  | 'no_room'; // held: the lanes it may use are full this round

export interface LaneDecision {
  recordId: string;
  /** The lane, or null when the record is held back. */
  lane: Lane | null;
  reason: DecisionReason;
  /** The sentence for logs and the summary. */
  explanation: string;
  /** Estimated USD on the chosen lane (0 when held). */
  costUsd: number;
  /** Held by max_cost: what the record alone would cost on the lane it was held for. */
  heldForUsd?: number;
  /** Planned time until the record's chain is done on this lane, in ms. */
  chainFinishMs: number;
}

/** Why a record that would wait for Flex goes by another lane. */
const FLEX_RESTING = 'flex is resting (its requests failed through every retry)';
const FLEX_TIMED_OUT = 'its flex request got no answer within the timeout';

const ORDER: readonly Lane[] = ['batch', 'flex', 'standard', 'priority'];
/** The lanes at half price. */
const CHEAP: readonly Lane[] = ['batch', 'flex'];

/** The lane a fixed mode sends every record on. */
export const MODE_LANE: Record<Exclude<ExecutionMode, 'auto'>, Lane> = {
  batch: 'batch',
  flex: 'flex',
  realtime: 'standard',
};

/** Decides a lane for every ready record (deepest chains first); see the module comment for the policy. */
export function chooseLanes(input: SchedulingInput): LaneDecision[] {
  const records = [...input.ready].sort((a, b) => b.remaining - a.remaining || a.id.localeCompare(b.id));
  const ledger = new BudgetLedger(input);
  if (input.mode !== 'auto') {
    const lane = MODE_LANE[input.mode];
    return records.map((record) => {
      const finish = chainFinishMs(lane, record.remaining, input.latency);
      const held = ledger.hold(record, lane);
      if (held) return held;
      ledger.commit(record, lane);
      return {
        recordId: record.id,
        lane,
        reason: 'mode',
        explanation: `execution.mode ${input.mode}: ${lane}`,
        costUsd: record.cost[lane],
        chainFinishMs: finish,
      };
    });
  }
  const slots = new LaneSlots(input);
  const deepest = Math.max(input.longestRemaining ?? 0, ...records.map((record) => record.remaining), 1);
  const { targetMs, target } =
    input.deadline !== null
      ? { targetMs: input.deadline - input.now, target: 'the deadline' }
      : planTarget(input, records, deepest);
  const hedged = records.filter((record) => record.hedged).length;
  const flexTakesHedges =
    input.room.flex.usable &&
    !input.room.flex.resting &&
    (!input.flexDrainMs ||
      input.flexDrainMs(hedged) + input.latency.flex.slowMs <= input.latency.batch.slowMs);
  const round: Round = { input, slots, ledger, targetMs, target, flexTakesHedges };
  return records.map((record) => decide(record, round));
}

/**
 * Without a deadline: the critical path on Flex, or longer when Flex's rate cannot carry what that
 * would leave it (`autoTarget`); on standard when Flex cannot be used.
 */
function planTarget(
  input: SchedulingInput,
  records: readonly ReadyRecord[],
  deepest: number,
): { targetMs: number; target: string } {
  if (!input.room.flex.usable) {
    const targetMs = chainFinishMs('standard', deepest, input.latency);
    return { targetMs, target: `the critical path (${deepest} deep on standard)` };
  }
  // The deepest chain may be in flight only (`longestRemaining`): it still sets the critical path.
  const chains = new Map(input.chains ?? depthsOf(records));
  if (!chains.has(deepest)) chains.set(deepest, 1);
  const plan = autoTarget({
    chains,
    latency: input.latency,
    ...(input.flexDrainMs ? { flexDrainMs: input.flexDrainMs } : {}),
  });
  const target = plan.rateBound
    ? `the time Flex's quota allows (${deepest} deep, ${plan.flexRecords} records left to flex)`
    : `the critical path (${deepest} deep on flex)`;
  return { targetMs: plan.targetMs, target };
}

/** The chains of the ready records, by records left. */
function depthsOf(records: readonly ReadyRecord[]): Map<number, number> {
  const depths = new Map<number, number>();
  for (const record of records) depths.set(record.remaining, (depths.get(record.remaining) ?? 0) + 1);
  return depths;
}

/**
 * One round of `auto` decisions: its input, the room and budget left as records are placed, and
 * the time a chain should finish within (the deadline, or the critical path) with its name.
 */
interface Round {
  input: SchedulingInput;
  slots: LaneSlots;
  ledger: BudgetLedger;
  targetMs: number;
  target: string;
  /** Flex can start this round's hedged records sooner than another batch turnaround would answer. */
  flexTakesHedges: boolean;
}

function decide(record: ReadyRecord, round: Round): LaneDecision {
  if (record.hedged && round.flexTakesHedges && record.avoid !== 'flex') return hedge(record, round);
  const decision = decideLane(record, round);
  if (!record.hedged || decision.lane === null || !round.input.room.flex.usable) return decision;
  // A resting Flex says so in the decision's own explanation.
  const why = round.input.room.flex.resting
    ? 'its batch job stalled'
    : "its batch job stalled, but Flex's quota cannot start it before another batch turnaround";
  return { ...decision, explanation: `${why}; ${decision.explanation}` };
}

/** A record's lane by the target, the room and the budget (see the module comment). */
function decideLane(record: ReadyRecord, round: Round): LaneDecision {
  const { input, ledger, targetMs } = round;
  // Without a deadline speed is not bought: only the cheap lanes are considered.
  const lanes = (input.deadline === null ? CHEAP : ORDER).filter((lane) => lane !== record.avoid);
  const { open, affordable, finish } = laneOptions(record, lanes, round);
  const meeting = affordable.find((lane) => finish(lane) <= targetMs);
  if (meeting) return take(record, meeting, reasonFor(meeting, input), round);
  const cheapest = open[0];
  if (cheapest && ledger.crossesCap(record, cheapest)) return ledger.held(record, cheapest);
  if (input.deadline === null) {
    // Flex is full and batch would lengthen the critical path: wait a round for Flex, unless Flex
    // rests after failing (it may stay down for hours; batch answers at the same price).
    const { flex } = input.room;
    if ((flex.usable && !flex.resting && record.avoid !== 'flex') || !cheapest)
      return held(record, `held: waits for room on flex (${record.remaining} to go, on the critical path)`);
    const decision = take(record, cheapest, 'best_effort', round);
    const why = record.avoid === 'flex' ? FLEX_TIMED_OUT : flex.usable ? FLEX_RESTING : null;
    return why ? { ...decision, explanation: `${why}; ${decision.explanation}` } : decision;
  }
  // Nothing meets the deadline: the fastest lane with room that the budget allows.
  const fastest = [...affordable].sort((a, b) => finish(a) - finish(b))[0];
  if (fastest) return take(record, fastest, 'best_effort', round);
  return held(record, `held: no lane within max_cost has room this round (${open.join(', ') || 'all full'})`);
}

/**
 * A record whose batch job stalled and was cancelled: Flex, or with a deadline Flex would miss the
 * cheapest synchronous lane that meets it within budget (else the fastest affordable one); it waits
 * for synchronous room rather than go back into a batch job.
 */
function hedge(record: ReadyRecord, round: Round): LaneDecision {
  const { input, ledger, targetMs } = round;
  const lanes: readonly Lane[] = input.deadline === null ? ['flex'] : ['flex', 'standard', 'priority'];
  const { open, affordable, finish } = laneOptions(record, lanes, round);
  const lane =
    affordable.find((candidate) => finish(candidate) <= targetMs) ??
    (affordable.includes('flex') ? 'flex' : [...affordable].sort((a, b) => finish(a) - finish(b))[0]);
  if (lane) return take(record, lane, 'hedge', round);
  const cheapest = open[0];
  if (cheapest && ledger.crossesCap(record, cheapest)) return ledger.held(record, cheapest);
  return held(record, `held: hedged off a stalled batch job, waits for room on ${lanes.join(' or ')}`);
}

/**
 * Of `lanes`, those with room this round (a lane that cannot be used has none), those of them the
 * budget allows, and the planned finish of the record's chain on a lane.
 */
function laneOptions(
  record: ReadyRecord,
  lanes: readonly Lane[],
  { input, slots, ledger }: Round,
): { open: Lane[]; affordable: Lane[]; finish: (lane: Lane) => number } {
  const open = lanes.filter((lane) => slots.free(lane));
  const affordable = open.filter(
    (lane) => ledger.canUpgrade(record, lane) && !ledger.crossesCap(record, lane),
  );
  return { open, affordable, finish: (lane) => chainFinishMs(lane, record.remaining, input.latency) };
}

function held(record: ReadyRecord, explanation: string): LaneDecision {
  return {
    recordId: record.id,
    lane: null,
    reason: 'no_room',
    explanation,
    costUsd: 0,
    chainFinishMs: Number.POSITIVE_INFINITY,
  };
}

function reasonFor(lane: Lane, input: SchedulingInput): DecisionReason {
  switch (lane) {
    case 'batch':
      return 'width';
    case 'flex':
      return 'critical_path';
    case 'standard':
    case 'priority':
      return input.deadline !== null ? 'deadline' : 'critical_path';
    default:
      return lane satisfies never;
  }
}

function take(
  record: ReadyRecord,
  lane: Lane,
  reason: DecisionReason,
  { input, slots, ledger, targetMs, target }: Round,
): LaneDecision {
  slots.take(lane);
  const extra = ledger.commit(record, lane);
  const finish = chainFinishMs(lane, record.remaining, input.latency);
  const plan = `${record.remaining} to go, done in ~${hours(finish)} on ${lane}`;
  const explanation: Record<DecisionReason, string> = {
    mode: '',
    width: `width: ${plan}, within ${target} (${hours(targetMs)})`,
    critical_path: `critical path: ${plan}; batch would end after ${target} (${hours(targetMs)})`,
    deadline: `deadline: ${plan}; flex would miss it (${hours(chainFinishMs('flex', record.remaining, input.latency))} > ${hours(targetMs)}), +${usdFine(extra)} within max_cost`,
    best_effort: `best effort: ${plan}, after ${target} (${hours(targetMs)}); no affordable lane with room is faster`,
    hedge: `hedge: its batch job stalled and was cancelled; ${plan}`,
    max_cost: '',
    no_room: '',
  };
  return {
    recordId: record.id,
    lane,
    reason,
    explanation: explanation[reason],
    costUsd: record.cost[lane],
    chainFinishMs: finish,
  };
}

/**
 * What each lane can still start this round. The synchronous lanes also draw on one shared pool:
 * counting each lane's room apart would decide (and log) more synchronous sends than can start.
 */
class LaneSlots {
  private readonly left: Record<Lane, number>;
  private shared: number;

  constructor(input: SchedulingInput) {
    this.left = { batch: 0, flex: 0, standard: 0, priority: 0 };
    for (const lane of ORDER) this.left[lane] = input.room[lane].usable ? input.room[lane].slots : 0;
    this.shared = input.syncSlots ?? Number.POSITIVE_INFINITY;
  }

  free(lane: Lane): boolean {
    return this.left[lane] >= 1 && (lane === 'batch' || this.shared >= 1);
  }

  take(lane: Lane): void {
    this.left[lane] -= 1;
    if (lane !== 'batch') this.shared -= 1;
  }
}

/**
 * The money side of the policy. The cap is hard (committed + this record <= max_cost). Upgrades
 * over the cheap price come out of what is left once every unfinished record's cheap price is
 * reserved, so paying for speed now never leaves later records without budget.
 */
class BudgetLedger {
  private committed: number;
  private spare: number;
  private readonly cap: number;

  constructor(input: SchedulingInput) {
    this.cap = input.budget.maxCostUsd ?? Number.POSITIVE_INFINITY;
    this.committed = input.budget.committedUsd;
    const cheapReady = input.ready.reduce((sum, record) => sum + cheapCost(record), 0);
    this.spare = this.cap - this.committed - input.budget.reservedUsd - cheapReady;
  }

  crossesCap(record: ReadyRecord, lane: Lane): boolean {
    return this.committed + record.cost[lane] > this.cap + 1e-12;
  }

  canUpgrade(record: ReadyRecord, lane: Lane): boolean {
    const extra = record.cost[lane] - cheapCost(record);
    return extra <= 1e-12 || extra <= this.spare;
  }

  /** Books the record on the lane; returns what it costs above the cheap price. */
  commit(record: ReadyRecord, lane: Lane): number {
    const extra = Math.max(0, record.cost[lane] - cheapCost(record));
    this.committed += record.cost[lane];
    this.spare -= extra;
    return extra;
  }

  /** A held decision when the record on `lane` would cross the cap, else null. */
  hold(record: ReadyRecord, lane: Lane): LaneDecision | null {
    return this.crossesCap(record, lane) ? this.held(record, lane) : null;
  }

  /** The record held back by the cap. */
  held(record: ReadyRecord, lane: Lane): LaneDecision {
    return {
      recordId: record.id,
      lane: null,
      reason: 'max_cost',
      explanation: `held by max_cost: ${usdFine(this.committed)} committed of ${usdFine(this.cap)}; ${record.id} needs ${usdFine(record.cost[lane])} on ${lane}`,
      costUsd: 0,
      heldForUsd: record.cost[lane],
      chainFinishMs: Number.POSITIVE_INFINITY,
    };
  }
}

function cheapCost(record: ReadyRecord): number {
  return Math.min(record.cost.batch, record.cost.flex);
}

/** Milliseconds as hours and minutes, for explanations: "2h05m", "14m", "40s". */
function hours(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
