import nunjucks from 'nunjucks';

/**
 * Templates are code, trusted like the config, but a template should not be one step from running
 * JavaScript: in plain nunjucks `{{ "".constructor.constructor("return process.env")() }}` reads the
 * environment (the API key with it). Every property lookup in a template goes through nunjucks'
 * `runtime.memberLookup`; while wavebatch renders, lookups of `constructor`, `prototype` and
 * `__…` names are refused, so no template can reach the Function constructor. Other users of
 * nunjucks in the same process are not affected (the guard is active only inside `guardedRender`).
 */

interface NunjucksRuntime {
  memberLookup(obj: unknown, key: unknown): unknown;
}

const runtime = (nunjucks as unknown as { runtime: NunjucksRuntime }).runtime;

/** How many wavebatch renders are running (renders are synchronous, so this is 0 or 1 in practice). */
let guardedDepth = 0;
let installed = false;

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
}

/** Runs a synchronous nunjucks render with the property guard on. */
export function guardedRender<T>(render: () => T): T {
  install();
  guardedDepth++;
  try {
    return render();
  } finally {
    guardedDepth--;
  }
}
