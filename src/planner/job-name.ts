import { createHash } from 'node:crypto';
import { compareCodeUnits } from '../code-unit-order.js';

/** Hex digits of content hash at the end of every job name. */
const HASH_LENGTH = 20;

/**
 * The prefix of every job name of one state store: `wb-<workload>-<store id>-`. The store id (drawn
 * when the store was created) keeps two stores of the same workload (a copy, a second machine) from
 * taking each other's remote jobs for their own.
 */
export function jobNamePrefix(workload: string, storeId: string): string {
  return `wb-${workload}-${storeId}-`;
}

/** Whether a remote job's display name is one this store gave (its prefix, then the content hash). */
export function isOwnJobName(prefix: string, displayName: string | undefined): boolean {
  if (!displayName?.startsWith(prefix)) return false;
  return new RegExp(`^[0-9a-f]{${HASH_LENGTH}}$`).test(displayName.slice(prefix.length));
}

/**
 * The job's display name: the store's prefix and a hash of the exact (record, attempt) pairs it
 * carries and a nonce drawn when the intent is stored. The name is stored with the intent before any
 * remote call, so a job created before a crash is recognised by it and adopted instead of created
 * twice. The nonce keeps names unique when the same records are submitted again at the same attempt
 * (after a CANCELLED or EXPIRED job, or after `wavebatch reset`), so an old remote job is never
 * adopted in place of a new one.
 */
export function jobDisplayName(
  prefix: string,
  members: ReadonlyArray<{ recordId: string; attempt: number }>,
  nonce: string,
): string {
  const hash = createHash('sha256');
  hash.update(prefix);
  hash.update('\n');
  hash.update(nonce);
  for (const member of [...members].sort((a, b) => compareCodeUnits(a.recordId, b.recordId))) {
    hash.update('\n');
    hash.update(member.recordId);
    hash.update('#');
    hash.update(String(member.attempt));
  }
  return `${prefix}${hash.digest('hex').slice(0, HASH_LENGTH)}`;
}
