/**
 * A bound on requests in flight: async slots, first come first served (no process pools; a
 * synchronous request is an idle socket while the model works, so thousands fit in one process).
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`Slots size must be a whole number >= 1, got ${size}`);
    this.free = size;
  }

  /** Requests holding a slot. */
  get busy(): number {
    return this.size - this.free;
  }

  /**
   * Waits for a slot; the returned function gives it back (once; later calls do nothing). Throws
   * `signal`'s reason when it aborts during the wait: a stopping run does not hold a record until
   * a slot frees only to send nothing.
   */
  async take(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await this.wait(signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot jump the queue.
      if (next) next();
      else this.free += 1;
    };
  }

  /** Joins the queue until a released slot passes to this waiter, or `signal` aborts (then leaves it). */
  private wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const leave = () => {
        const at = this.waiting.indexOf(handOver);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const handOver = () => {
        signal?.removeEventListener('abort', leave);
        resolve();
      };
      this.waiting.push(handOver);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }
}
