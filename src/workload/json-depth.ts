/**
 * Whether a parsed JSON value holds arrays or objects nested more than `limit` deep, found without
 * recursion: JSON.parse takes any depth, but JSON.stringify (and whatever walks the value after it)
 * recurses, and a line of `[[[[…]]]]` a few thousand deep overflowed the stack.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(item)) if (typeof child === 'object') pending.push([child, depth + 1]);
  }
  return false;
}
