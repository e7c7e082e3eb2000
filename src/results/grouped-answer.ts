/**
 * Grouped requests (`execution.records_per_request`): several records rendered into one prompt. The
 * model is asked for one object keyed by record id, each property holding that record's answer in
 * the configured response schema; the answer is split back into one outcome per record here.
 */
import {
  classifyResult,
  MAX_RAW_BYTES,
  type ResultInput,
  type ResultOutcome,
  type Usage,
} from './classification.js';
import { capText } from './capped-text.js';
import type { OutputValidator } from './validator.js';

/** The name of the record schema under the group schema's `$defs`. */
const ITEM_DEF = 'wavebatch_item';

/**
 * The response schema of a group: an object with one required property per record id, in the
 * group's order, each a reference to the record's own schema (a string when outputs are text). A
 * required property per record makes constrained decoding answer every item; an array could skip or
 * repeat one. The record schema is in `$defs` once, not copied per record: Google counts the
 * response schema as input tokens, so each extra record costs its id, not another schema.
 */
export function groupResponseSchema(parts: GroupItem, recordIds: readonly string[]): object {
  const { item, defs } = parts;
  // fromEntries defines own properties: an id such as `__proto__` stays a plain key.
  const properties = Object.fromEntries(recordIds.map((id) => [id, item]));
  return {
    type: 'object',
    properties,
    required: [...recordIds],
    propertyOrdering: [...recordIds],
    ...(defs ? { $defs: defs } : {}),
  };
}

/** The per-record answer schema of a group (a reference, or a string schema), and the group's `$defs`. */
export interface GroupItem {
  item: unknown;
  defs: Record<string, unknown> | null;
}

/**
 * The group item of a record's response schema (computed once per builder; none: text answers).
 * The record schema moves to the group's `$defs` beside its own definitions, and its references to
 * its own root (`#`, `#/properties/…`) are re-pointed at it there.
 */
export function itemParts(itemSchema: unknown): GroupItem {
  if (itemSchema === undefined || itemSchema === null) return { item: { type: 'string' }, defs: null };
  if (typeof itemSchema !== 'object' || Array.isArray(itemSchema)) return { item: itemSchema, defs: null };
  const { $defs, ...rest } = itemSchema as Record<string, unknown>;
  const defs: Record<string, unknown> = isObject($defs) ? { ...$defs } : {};
  let name = ITEM_DEF;
  while (Object.hasOwn(defs, name)) name = `${name}_`;
  return {
    item: { $ref: `#/$defs/${name}` },
    defs: { ...(rewriteRefs(defs, name) as Record<string, unknown>), [name]: rewriteRefs(rest, name) },
  };
}

/** A copy of `value` whose references into the item point at its copy in `$defs/<target>`. */
function rewriteRefs(value: unknown, target: string): unknown {
  if (Array.isArray(value)) return value.map((entry) => rewriteRefs(entry, target));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) => [
      key,
      key === '$ref' && typeof entry === 'string' && pointsIntoItem(entry)
        ? `#/$defs/${target}${entry.slice(1)}`
        : rewriteRefs(entry, target),
    ]),
  );
}

/** `#` or a pointer into the item other than its (hoisted) `$defs`. */
function pointsIntoItem(ref: string): boolean {
  return ref === '#' || (ref.startsWith('#/') && !ref.startsWith('#/$defs/'));
}

/** Accepts any JSON object as a group's answer; each item is then validated on its own. */
export const GROUP_ANSWER_VALIDATOR: OutputValidator = {
  expectsJson: true,
  validate: (value) =>
    isObject(value) ? { ok: true } : { ok: false, message: '/ must be an object keyed by record id' },
};

/** Classifies a grouped request's result and splits it into one outcome per record (see splitGroupOutcome). */
export function classifyGroupResult(
  input: ResultInput,
  recordIds: readonly string[],
  validator: OutputValidator,
): ResultOutcome[] {
  return splitGroupOutcome(classifyResult(input, GROUP_ANSWER_VALIDATOR), recordIds, validator);
}

/**
 * One outcome per record from a group's outcome (classified with GROUP_ANSWER_VALIDATOR): a
 * failure of the whole answer is each record's failure; otherwise each record's item is checked
 * against the record schema, and a missing one is that record's own `missing_item` failure. Usage is
 * divided so the records' shares add up to what the request was billed: input evenly, output by
 * the size of each record's item.
 */
export function splitGroupOutcome(
  outcome: ResultOutcome,
  recordIds: readonly string[],
  validator: OutputValidator,
): ResultOutcome[] {
  if (!outcome.ok) {
    const shares = outcome.usage
      ? divideUsage(
          outcome.usage,
          recordIds.map(() => 1),
        )
      : null;
    return recordIds.map((id, index) => ({
      ...outcome,
      message:
        recordIds.length > 1
          ? `${outcome.message} (the answer for a group of ${recordIds.length})`
          : outcome.message,
      ...(shares ? { usage: shares[index] as Usage } : {}),
    }));
  }
  const answer = outcome.output as Record<string, unknown>;
  const items = recordIds.map((id) => (Object.hasOwn(answer, id) ? answer[id] : undefined));
  const shares = divideUsage(
    outcome.usage,
    items.map((item) => (item === undefined ? 1 : (JSON.stringify(item)?.length ?? 1))),
  );
  const raw = () => capText(outcome.text, MAX_RAW_BYTES);
  return recordIds.map((id, index): ResultOutcome => {
    const item = items[index];
    const usage = shares[index] as Usage;
    const finishReason = outcome.finishReason;
    if (item === undefined)
      return {
        ok: false,
        cause: 'missing_item',
        message: `The grouped answer has no item for ${id}; it is sent again on its own.`,
        raw: raw(),
        retryable: true,
        usage,
        finishReason,
      };
    const verdict = validator.expectsJson
      ? validator.validate(item)
      : typeof item === 'string'
        ? { ok: true as const }
        : { ok: false as const, message: '/ must be string' };
    if (!verdict.ok)
      return {
        ok: false,
        cause: 'schema_mismatch',
        message: `The grouped answer's item for ${id} does not match the response schema: ${verdict.message}`,
        raw: raw(),
        retryable: true,
        usage,
        finishReason,
      };
    const text = typeof item === 'string' ? item : JSON.stringify(item);
    return { ok: true, output: item, text, usage, finishReason };
  });
}

/**
 * Splits billed usage across records by weight, as whole tokens that add up exactly (largest
 * remainder): input evenly (each record's share of the prompt), output and thinking by `weights`.
 */
export function divideUsage(usage: Usage, weights: readonly number[]): Usage[] {
  const even = weights.map(() => 1);
  const input = apportion(usage.inputTokens, even);
  const output = apportion(usage.outputTokens, weights);
  const thoughts = usage.thoughtsTokens === undefined ? null : apportion(usage.thoughtsTokens, weights);
  // The prompt's audio evenly too, as its input: never more than a share's input.
  const audio = usage.audioInputTokens === undefined ? null : apportion(usage.audioInputTokens, even);
  return weights.map((_, index) => ({
    inputTokens: input[index] as number,
    outputTokens: output[index] as number,
    ...(thoughts ? { thoughtsTokens: thoughts[index] as number } : {}),
    ...(audio ? { audioInputTokens: audio[index] as number } : {}),
  }));
}

function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  if (sum <= 0)
    return apportion(
      total,
      weights.map(() => 1),
    );
  const exact = weights.map((weight) => (total * weight) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left <= 0) break;
    shares[index] = (shares[index] as number) + 1;
    left--;
  }
  return shares;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
