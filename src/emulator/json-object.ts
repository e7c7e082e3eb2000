/**
 * Whether a parsed JSON value is an object (not null, not an array), so its fields can be read.
 * Named for JSON rather than "record": in wavebatch a record is a unit of the workload.
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
