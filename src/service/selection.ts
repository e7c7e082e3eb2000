import { WavebatchError } from '../errors.js';
import type { StoredRecord } from '../store/store.js';
import type { ChainRecords } from './chain-export.js';

/**
 * Ad-hoc selection for one run (`run --only/--filter/--limit/--force`, and the HTTP API next): which
 * records a run may send. Records outside it are never sent, requeued or redone by that run.
 */
export interface RecordSelection {
  /** Record ids, chain ids or globs over them (`*` within a path segment, `**` across, `?` one character). */
  only?: readonly string[];
  /** Conditions on the records' variables (a directory's levels, a table's columns); all must hold. */
  filter?: readonly FieldCondition[];
  /** At most this many records to send: whole chain prefixes, chains in id order. */
  limit?: number;
  /** Send the selected done records again (their outputs are made anew). */
  force?: boolean;
}

/** One `--filter` condition: the field equals one of `values`, or (as a number) lies in `range`. */
export interface FieldCondition {
  field: string;
  values: string[];
  range?: { min?: number; max?: number };
}

/** A selected record that cannot be sent this run: its predecessor is neither done nor selected. */
export interface WaitingRecord {
  id: string;
  predecessorId: string;
  /** Where the predecessor stands (`dead`, `blocked`, `ready`, `in_flight`). */
  predecessorStatus: string;
}

/** What a run over a selection will do (also the `--dry-run --json` shape's `selection`). */
export interface SelectionPlan {
  /** Records matched by `only` and `filter` (every record when neither is given). */
  matched: number;
  /** Records the run will send, in chain order: ready or blocked now, and done ones with `force`. */
  send: string[];
  /** The done records among `send`, whose outputs are made again (`force`). */
  redo: string[];
  /** Matched records already in a job: the run collects them and sends nothing for them. */
  inFlight: string[];
  /** Matched records that are done and are left alone (without `force`). */
  alreadyDone: string[];
  /** Matched dead letters: left alone (`wavebatch requeue` puts them back). */
  dead: string[];
  /** Matched records that wait on a predecessor outside the selection which is not done. */
  waiting: WaitingRecord[];
  /** Chains with at least one record to send. */
  chains: number;
  /** True when `limit` cut the selection short. */
  limited: boolean;
}

/** Raised for a selection that cannot be right: unknown ids, a malformed filter, a field no record has. */
export class SelectionError extends WavebatchError {
  readonly code = 'INPUT_SELECTION';
}

/**
 * Parses `state=TX,year=1990..1999,state=CA` (as `--filter` takes it; the flag may be repeated):
 * a field given twice accepts either value; `a..b` (either end optional) is a numeric range.
 */
export function parseFieldConditions(texts: readonly string[]): FieldCondition[] {
  const byField = new Map<string, FieldCondition>();
  for (const part of texts.flatMap((text) => text.split(','))) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const field = trimmed.slice(0, Math.max(equals, 0)).trim();
    const value = trimmed.slice(equals + 1).trim();
    if (equals <= 0 || value === '')
      throw new SelectionError(
        `--filter "${trimmed}" is not field=value: write e.g. --filter state=TX,year=1990..1999`,
      );
    const condition = byField.get(field) ?? { field, values: [] };
    const range = /^(-?\d+(?:\.\d+)?)?\.\.(-?\d+(?:\.\d+)?)?$/.exec(value);
    // `page=abc..def` was taken as the text "abc..def", which no record has: it matched nothing.
    if (value.includes('..') && (!range || (range[1] === undefined && range[2] === undefined)))
      throw new SelectionError(
        `--filter "${trimmed}" is not a range: min..max takes numbers (either end optional, e.g. year=1990..1999); other values are compared as exact text`,
      );
    if (range) {
      if (condition.range)
        throw new SelectionError(`--filter gives ${field} two ranges; give one (${field}=min..max)`);
      condition.range = {
        ...(range[1] !== undefined ? { min: Number(range[1]) } : {}),
        ...(range[2] !== undefined ? { max: Number(range[2]) } : {}),
      };
    } else condition.values.push(value);
    byField.set(field, condition);
  }
  return [...byField.values()];
}

/** True when `pattern` holds a glob character; otherwise it names one record or chain exactly. */
function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** A glob over ids as a regular expression: `**` any text, `*` any text without `/`, `?` one character. */
export function globExpression(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Does the record's variable satisfy the condition (values compared as text, ranges as numbers)? */
function satisfies(record: StoredRecord, condition: FieldCondition): boolean {
  const value = record.vars[condition.field];
  if (value === undefined || value === null) return false;
  const text = String(value);
  if (condition.values.includes(text)) return true;
  if (!condition.range) return false;
  const number = Number(text);
  if (text.trim() === '' || !Number.isFinite(number)) return false;
  const { min, max } = condition.range;
  return (min === undefined || number >= min) && (max === undefined || number <= max);
}

/**
 * Plans a run over a selection from the workload's chains (ids in chain order, records in position
 * order). Each chain's matched records are taken in position order; `limit` stops the walk once
 * that many records are to be sent, so a sample is always whole chain prefixes and every record in
 * it gets its predecessor's output as context. A matched record whose predecessor is neither done
 * nor selected waits (it is reported, not sent, and its predecessor is not pulled in): a selection
 * never touches records outside it.
 */
export async function planSelection(
  chains: AsyncIterable<ChainRecords>,
  selection: RecordSelection,
): Promise<SelectionPlan> {
  const exact = new Set((selection.only ?? []).filter((pattern) => !isGlob(pattern)));
  const globs = (selection.only ?? []).filter(isGlob).map(globExpression);
  const conditions = selection.filter ?? [];
  const unmatchedExact = new Set(exact);
  const fieldsSeen = new Set<string>();
  // A few values of each filtered field, for the error when nothing matches.
  const valuesSeen = new Map(conditions.map((condition) => [condition.field, new Set<string>()]));
  const byOnly = (record: StoredRecord): boolean => {
    if (exact.size === 0 && globs.length === 0) return true;
    let hit = false;
    for (const name of [record.id, record.chainId]) {
      if (exact.has(name)) {
        unmatchedExact.delete(name);
        hit = true;
      } else if (globs.some((glob) => glob.test(name))) hit = true;
    }
    return hit;
  };
  const byFilter = (record: StoredRecord): boolean => {
    // Every condition is looked at (no short cut), so a field is known to exist when any record has it.
    for (const condition of conditions) {
      const value = record.vars[condition.field];
      if (value === undefined) continue;
      fieldsSeen.add(condition.field);
      const seen = valuesSeen.get(condition.field);
      if (seen && seen.size <= SHOWN_VALUES) seen.add(String(value));
    }
    return conditions.every((condition) => satisfies(record, condition));
  };

  const plan: SelectionPlan = {
    matched: 0,
    send: [],
    redo: [],
    inFlight: [],
    alreadyDone: [],
    dead: [],
    waiting: [],
    chains: 0,
    limited: false,
  };
  const limit = selection.limit ?? Number.POSITIVE_INFINITY;
  for await (const chain of chains) {
    if (plan.limited) break;
    const byId = new Map(chain.records.map((record) => [record.id, record]));
    // Records of this chain that will be settled this run (sent, or collected from their job).
    const settling = new Set<string>();
    let sending = false;
    for (const record of chain.records) {
      if (!byOnly(record) || !byFilter(record)) continue;
      // The walk ends at the first matched record past the limit: a sample is a prefix of the walk.
      if (plan.send.length >= limit) {
        plan.limited = true;
        break;
      }
      plan.matched++;
      if (record.status === 'dead') {
        plan.dead.push(record.id);
        continue;
      }
      if (record.status === 'in_flight') {
        plan.inFlight.push(record.id);
        settling.add(record.id);
        continue;
      }
      const redo = record.status === 'done';
      if (redo && !selection.force) {
        plan.alreadyDone.push(record.id);
        continue;
      }
      const predecessor = record.predecessorId ? byId.get(record.predecessorId) : undefined;
      const contextReady = !predecessor || predecessor.status === 'done' || settling.has(predecessor.id);
      if (!contextReady) {
        plan.waiting.push({
          id: record.id,
          predecessorId: predecessor.id,
          predecessorStatus: predecessor.status,
        });
        continue;
      }
      plan.send.push(record.id);
      if (redo) plan.redo.push(record.id);
      settling.add(record.id);
      sending = true;
    }
    if (sending) plan.chains++;
  }
  if (unmatchedExact.size > 0 && !plan.limited)
    throw new SelectionError(
      `--only names no record or chain: ${[...unmatchedExact].slice(0, 10).join(', ')}. ` +
        '`wavebatch status` shows the workload; globs such as "TX/**" match ids and chain ids.',
    );
  const missing = conditions.filter((condition) => !fieldsSeen.has(condition.field));
  if (missing.length > 0 && plan.matched === 0)
    throw new SelectionError(
      `--filter names a field no record has: ${missing.map((condition) => condition.field).join(', ')} ` +
        "(a directory source's level names, or a table source's columns)",
    );
  if (plan.matched === 0 && (conditions.length > 0 || globs.length > 0))
    throw new SelectionError(`The selection matches no record; nothing was sent. ${noMatchHint(valuesSeen)}`);
  return plan;
}

/** How many values of a filtered field the no-match error shows. */
const SHOWN_VALUES = 5;

/** What the fields of a selection that matched nothing hold, or where to look without a filter. */
function noMatchHint(valuesSeen: ReadonlyMap<string, ReadonlySet<string>>): string {
  if (valuesSeen.size === 0)
    return '`wavebatch status` shows the workload; globs such as "TX/**" match ids and chain ids.';
  const fields = [...valuesSeen].map(([field, values]) => {
    const shown = [...values].slice(0, SHOWN_VALUES).join(', ');
    return `${field}: ${shown}${values.size > SHOWN_VALUES ? ', …' : ''}`;
  });
  return `Values the records have: ${fields.join('; ')} (--filter compares text exactly; min..max is a numeric range).`;
}

/**
 * The records a run over this plan is scoped to: every matched record the walk reached. Its counts
 * (the run's summary and exit code) are theirs; only its ready ones are sent.
 */
export function scopeOf(plan: SelectionPlan): string[] {
  return [
    ...plan.send,
    ...plan.inFlight,
    ...plan.waiting.map((record) => record.id),
    ...plan.alreadyDone,
    ...plan.dead,
  ];
}
