/**
 * The records of stalled jobs cancelled under `stall_action: split`, until they are packed again:
 * each goes only into a job with records of the same cancelled job, at most half its size. Kept in
 * memory: a crash between the cancel and the resubmission forgets the split, and the records are
 * then packed as usual (nothing is lost or sent twice, the jobs are just not smaller).
 */
export class SplitPlan {
  private readonly planned = new Map<string, { group: string; cap: number }>();

  /** The members of a cancelled job: packed again in jobs of at most half as many (one stays one). */
  add(jobId: string, recordIds: readonly string[]): void {
    const cap = Math.max(1, Math.ceil(recordIds.length / 2));
    for (const id of recordIds) this.planned.set(id, { group: jobId, cap });
  }

  /** How a ready record must be packed, or undefined when freely. */
  of(recordId: string): { group: string; cap: number } | undefined {
    return this.planned.get(recordId);
  }

  /** Records now in a job intent: the plan is carried out for them. */
  packed(recordIds: readonly string[]): void {
    for (const id of recordIds) this.planned.delete(id);
  }
}
