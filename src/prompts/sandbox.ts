import nunjucks from 'nunjucks';

/**
 * Templates are code, trusted like the config, but a template should not be one step from running
 * JavaScript: in plain nunjucks `{{ "".constructor.constructor("return process.env")() }}` reads the
 * environment (the API key with it). Every property lookup in a template goes through nunjucks'
 * `runtime.memberLookup`; while wavebatch renders, lookups of `constructor`, `prototype` and
 * `__…` names are refused, so no template can reach the Function constructor. Other users of
 * nunjucks in the same process are not affected (the guard is active only inside `guardedRender`).
 *
 * A render also has a budget. A render is synchronous and cannot be interrupted, so a template
 * that loops for ever (`{% for a in range(20000) %}{% for b in range(20000) %}…`) held the run for
 * hours, and `range(100000000)` took a minute and 2 GB before the first step (a billion crashed
 * Node). Every loop step writes the loop's variables to its frame and every piece of output passes
 * through `runtime.suppressValue`: both are counted, and a render past the budget fails with
 * PROMPT_RENDER, as does a `range` longer than the budget's steps.
 */

/** Loop steps (variable writes) one render may take: a real prompt takes thousands. */
export const MAX_RENDER_STEPS = 10_000_000;

/** Characters one render may produce: far above the ~20 MB Gemini accepts in one request. */
export const MAX_RENDERED_CHARACTERS = 64 * 1024 * 1024;

interface NunjucksFrame {
  set(name: string, value: unknown, resolveUp?: boolean): void;
}

interface NunjucksRuntime {
  memberLookup(obj: unknown, key: unknown): unknown;
  suppressValue(value: unknown, autoescape: unknown): unknown;
  Frame: { prototype: NunjucksFrame };
}

const runtime = (nunjucks as unknown as { runtime: NunjucksRuntime }).runtime;

/** How many wavebatch renders are running (renders are synchronous, so this is 0 or 1 in practice). */
let guardedDepth = 0;
let installed = false;
/** What the current render has spent of its budget. */
let steps = 0;
let characters = 0;

/** A property name that leads from a value to JavaScript's machinery rather than to data. */
export function isBlockedProperty(key: unknown): boolean {
  const name = String(key);
  return name === 'constructor' || name === 'prototype' || name.startsWith('__');
}

function install(): void {
  if (installed) return;
  installed = true;
  const lookup = runtime.memberLookup;
  runtime.memberLookup = function guardedLookup(this: unknown, obj: unknown, key: unknown): unknown {
    if (guardedDepth > 0 && isBlockedProperty(key))
      // nunjucks adds the template's line; renderFile turns it into PROMPT_RENDER.
      throw new Error(
        `templates may not read "${String(key)}": it leads to JavaScript internals, not to data`,
      );
    return lookup.call(this, obj, key);
  };
  const set = runtime.Frame.prototype.set;
  runtime.Frame.prototype.set = function countedSet(this: NunjucksFrame, ...args): void {
    if (guardedDepth > 0 && ++steps > MAX_RENDER_STEPS)
      throw new Error(
        `the template took more than ${MAX_RENDER_STEPS} loop steps: is a loop endless or far too large?`,
      );
    set.apply(this, args);
  };
  const suppress = runtime.suppressValue;
  runtime.suppressValue = function countedOutput(value: unknown, autoescape: unknown): unknown {
    const out = suppress(value, autoescape);
    if (guardedDepth > 0 && (characters += String(out).length) > MAX_RENDERED_CHARACTERS)
      throw new Error(
        `the template produced more than ${MAX_RENDERED_CHARACTERS} characters: is a loop far too large?`,
      );
    return out;
  };
}

/**
 * nunjucks' `range`, refusing more numbers than a render may step through: nunjucks builds the
 * whole list before the loop's first step, so the budget alone would come too late.
 */
export function boundedRange(start: number, stop?: number, step?: number): number[] {
  // nunjucks' own reading of the arguments: range(n) is 0..n-1, and a step of 0 is 1.
  const [from, to, by] = stop === undefined ? [0, start, 1] : [start, stop, step || 1];
  const count = Math.ceil((to - from) / by);
  if (count > MAX_RENDER_STEPS)
    throw new Error(
      `range(${[start, stop, step].filter((value) => value !== undefined).join(', ')}) has more than ${MAX_RENDER_STEPS} numbers`,
    );
  const numbers: number[] = [];
  if (by > 0) for (let value = from; value < to; value += by) numbers.push(value);
  else for (let value = from; value > to; value += by) numbers.push(value);
  return numbers;
}

/** Runs a synchronous nunjucks render with the property guard and the budget on. */
export function guardedRender<T>(render: () => T): T {
  install();
  if (guardedDepth === 0) steps = characters = 0;
  guardedDepth++;
  try {
    return render();
  } finally {
    guardedDepth--;
  }
}
