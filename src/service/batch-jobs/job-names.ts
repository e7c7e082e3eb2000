import { OneoffInputError } from './errors.js';

/** A batch job's id: letters, digits, '-' and '_' (what Google hands out). */
const BATCH_ID = /^[A-Za-z0-9_-]+$/;

/** Accepts `batches/abc` or just `abc`; anything else is refused (OneoffInputError) before a call is made. */
export function batchName(job: string): string {
  const trimmed = job.trim();
  const id = trimmed.startsWith('batches/') ? trimmed.slice('batches/'.length) : trimmed;
  if (!BATCH_ID.test(id)) {
    throw new OneoffInputError(
      `${JSON.stringify(job)} is not a batch job name; use the name printed by \`wavebatch submit\` (batches/...).`,
    );
  }
  return `batches/${id}`;
}

/** Whether a name (as the API lists it) is `batches/` and a plain id, safe as a file name. */
export function isBatchName(name: string): boolean {
  return name.startsWith('batches/') && BATCH_ID.test(name.slice('batches/'.length));
}

/** The id part of a job name, used for result file names. */
export function batchId(name: string): string {
  return name.startsWith('batches/') ? name.slice('batches/'.length) : name;
}
