/** Code-unit (UTF-16) order of two strings: the same on every machine and locale, unlike `localeCompare`. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
