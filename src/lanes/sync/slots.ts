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

  /** Waits for a slot; the returned function gives it back (once; later calls do nothing). */
  async take(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
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
}
