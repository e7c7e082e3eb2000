/** How the records of a job are packed again: with the same job's records only, so many to a job. */
export interface PlannedSplit {
  /** The job they came from: they go only into a job with records of that job. */
  group: string;
  /** At most this many requests to a job. */
  cap: number;
  /** Sent as an uploaded JSONL file even when small enough to go inline. */
  file?: boolean;
  /** At most this many records to a grouped request (`records_per_request` when unset). */
  perRequest?: number;
}

/**
 * The records of jobs to be sent again smaller, until they are packed again: the members of stalled
 * jobs cancelled under `stall_action: split`, and of jobs the API refused as too large (413). Each
 * goes only into a job with records of the same job. Kept in memory: a crash between the cancel (or
 * refusal) and the resubmission forgets the split, and the records are then packed as usual
 * (nothing is lost or sent twice, the jobs are just not smaller). For a refusal that costs one more
 * refused call per halving already made, then the same splits: a split counts no attempt and a
 * refused job bills nothing, so it cannot loop or bill twice (test/cli/too-large-jobs.test.ts).
 */
export class SplitPlan {
  private readonly planned = new Map<string, PlannedSplit>();

  /** The members of a cancelled job: packed again in jobs of at most half as many (one stays one). */
  add(jobId: string, recordIds: readonly string[]): void {
    this.halve(jobId, recordIds, recordIds.length);
  }

  /**
   * The records of a job of `requests` requests: packed again in jobs of at most half as many;
   * `file`: in uploaded files (the job was one, and refused as too large).
   */
  halve(jobId: string, recordIds: readonly string[], requests: number, file = false): void {
    const cap = Math.max(1, Math.ceil(requests / 2));
    for (const id of recordIds) this.planned.set(id, { group: jobId, cap, ...(file ? { file } : {}) });
  }

  /** The records of an inline job of `requests` requests: packed again as they were, in an uploaded file. */
  asFile(jobId: string, recordIds: readonly string[], requests: number): void {
    const cap = Math.max(1, requests);
    for (const id of recordIds) this.planned.set(id, { group: jobId, cap, file: true });
  }

  /**
   * The `records` of one grouped request refused as too large: regrouped in requests of at most half
   * as many records, each alone in an uploaded file (two halves in one job would be as large again).
   */
  halveGroup(jobId: string, recordIds: readonly string[]): void {
    const perRequest = Math.max(1, Math.ceil(recordIds.length / 2));
    for (const id of recordIds) this.planned.set(id, { group: jobId, cap: 1, file: true, perRequest });
  }

  /** How a ready record must be packed, or undefined when freely. */
  of(recordId: string): PlannedSplit | undefined {
    return this.planned.get(recordId);
  }

  /** Records now in a job intent: the plan is carried out for them. */
  packed(recordIds: readonly string[]): void {
    for (const id of recordIds) this.planned.delete(id);
  }
}
