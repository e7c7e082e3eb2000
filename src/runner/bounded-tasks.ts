/**
 * Runs async tasks with at most `limit` in flight. Applying a job's results is dominated by fsync
 * latency (one durable file per record), which overlaps well; a bound keeps memory and open files flat.
 */
export class BoundedTasks {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`BoundedTasks limit must be a whole number >= 1, got ${limit}`);
  }

  /** Starts `task` once a slot is free; the first task error is rethrown here or by `drain`. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Waits for every started task; rethrows the first error any of them raised. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
