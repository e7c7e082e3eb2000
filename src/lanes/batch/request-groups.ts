/**
 * How a batch job's records are grouped into requests (`execution.records_per_request`), and the
 * key that ties each grouped line of the job's input to its records.
 *
 * A group's key lists its records' positions among the job's members (as the store lists them, by
 * record id): `group:0,1,2`. The key alone says which records a result belongs to, so results are
 * matched right even when the groups were formed differently from how they would be now (a job
 * written before a crash and adopted after it, or records_per_request changed in between).
 */

const PREFIX = 'group:';

/**
 * Splits records (in a stable order) into the requests that carry them: a record sent before
 * (attempts > 0) goes alone, so an item a grouped answer left out, or one whose content made a
 * whole group's answer fail, is retried on its own instead of failing its neighbours again; the
 * others go `size` at a time, in order.
 */
export function formGroups<T extends { attempts: number }>(records: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  for (const record of records) {
    if (record.attempts > 0 || size <= 1) {
      groups.push([record]);
      continue;
    }
    current.push(record);
    if (current.length >= size) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The key of a group's line: its records' positions among the job's members. */
export function groupKey(positions: readonly number[]): string {
  return `${PREFIX}${positions.join(',')}`;
}

/**
 * The member positions a key names, or null when it is not a group key of a job with `memberCount`
 * members (a record id, or a key naming positions the job does not have, or one twice).
 */
export function groupPositions(key: string, memberCount: number): number[] | null {
  if (!key.startsWith(PREFIX)) return null;
  const parts = key.slice(PREFIX.length).split(',');
  const positions: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,8})$/.test(part)) return null;
    const position = Number(part);
    if (position >= memberCount || positions.includes(position)) return null;
    positions.push(position);
  }
  return positions.length > 0 ? positions : null;
}
