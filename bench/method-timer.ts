// Times every method of an object in place (its instance, not its class), to see where a run's local
// work goes. Calls between methods of the same object are counted in both.
import type { CallTotals } from './timed-api.js';

/** Replaces each method of `target` with a timed one adding into `totals` under `<prefix>.<method>`. */
export function timeMethods(target: object, prefix: string, totals: Map<string, CallTotals>): void {
  const instance = target as Record<string, unknown>;
  for (const name of methodNames(target)) {
    const method = instance[name] as (...args: unknown[]) => unknown;
    const entry: CallTotals = { calls: 0, ms: 0, bytes: 0 };
    totals.set(`${prefix}.${name}`, entry);
    instance[name] = function timed(this: unknown, ...args: unknown[]): unknown {
      const started = performance.now();
      const settle = () => {
        entry.calls++;
        entry.ms += performance.now() - started;
      };
      const result = method.apply(this, args);
      if (result instanceof Promise) return result.finally(settle);
      settle();
      return result;
    };
  }
}

function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (
    let proto = Object.getPrototypeOf(target) as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name !== 'constructor' && typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return [...names];
}
