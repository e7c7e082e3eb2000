import { createHash } from 'node:crypto';

/**
 * The job's display name, derived from the workload, the exact (record, attempt) pairs it carries and
 * a nonce drawn when the intent is stored. The name is stored with the intent before any remote
 * call, so a job created before a crash is recognised by it and adopted instead of created twice.
 * The nonce keeps names unique when the same records are submitted again at the same attempt (after
 * a CANCELLED or EXPIRED job, or after `wavebatch reset`), so an old remote job is never adopted
 * in place of a new one.
 */
export function jobDisplayName(
  workload: string,
  members: ReadonlyArray<{ recordId: string; attempt: number }>,
  nonce: string,
): string {
  const hash = createHash('sha256');
  hash.update(workload);
  hash.update('\n');
  hash.update(nonce);
  for (const member of [...members].sort((a, b) =>
    a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0,
  )) {
    hash.update('\n');
    hash.update(member.recordId);
    hash.update('#');
    hash.update(String(member.attempt));
  }
  return `wb-${workload}-${hash.digest('hex').slice(0, 20)}`;
}
