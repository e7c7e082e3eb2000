import { createHash } from 'node:crypto';

/**
 * The job's display name, derived from the workload and the exact (record, attempt) pairs it carries.
 * The same intent always yields the same name, so a job created before a crash is recognised and
 * adopted instead of created twice.
 */
export function jobDisplayName(workload: string, members: ReadonlyArray<{ recordId: string; attempt: number }>): string {
  const hash = createHash('sha256');
  hash.update(workload);
  for (const member of [...members].sort((a, b) => (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0))) {
    hash.update('\n');
    hash.update(member.recordId);
    hash.update('#');
    hash.update(String(member.attempt));
  }
  return `wb-${workload}-${hash.digest('hex').slice(0, 20)}`;
}
