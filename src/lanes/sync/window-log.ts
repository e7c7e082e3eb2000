/** One counted request: when it started and the input tokens counted for it. */
export interface WindowEntry {
  at: number;
  tokens: number;
}

/**
 * The requests of a sliding window, oldest first, as the API counts them: a request is in the
 * window while now < at + window. A head index marks the window's start and the tokens inside are
 * kept as a running sum, so a check costs O(1) amortized. Time only moves forward.
 */
export class WindowLog {
  private entries: WindowEntry[] = [];
  private head = 0;
  private sum = 0;
  /** The `now` of the last advance: an entry with at > horizon - window is inside. */
  private horizon = Number.NEGATIVE_INFINITY;

  constructor(readonly windowMs: number) {}

  /** Requests in the window. */
  get count(): number {
    return this.entries.length - this.head;
  }

  /** Tokens in the window. */
  get tokens(): number {
    return this.sum;
  }

  /** Moves the window to end at `now`, dropping what left it. */
  advance(now: number): void {
    this.horizon = Math.max(this.horizon, now);
    for (let entry = this.entries[this.head]; entry && entry.at <= now - this.windowMs;) {
      this.sum -= entry.tokens;
      this.head += 1;
      entry = this.entries[this.head];
    }
    // Compact now and then, so a long run does not keep dead entries.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  add(entry: WindowEntry): void {
    this.entries.push(entry);
    this.sum += entry.tokens;
  }

  /** Replaces an entry's tokens (the estimate by the billed count); the sum follows while it is inside. */
  retokenize(entry: WindowEntry, tokens: number): void {
    if (entry.at > this.horizon - this.windowMs) this.sum += tokens - entry.tokens;
    entry.tokens = tokens;
  }

  /** Wait until fewer than `limit` requests are in the window (0 when there is room now). */
  waitForCount(limit: number, now: number): number {
    const excess = this.count - limit + 1;
    if (excess <= 0) return 0;
    const leaving = this.entries[this.head + excess - 1];
    return leaving ? leaving.at + this.windowMs - now : this.windowMs;
  }

  /**
   * Wait until `tokens` more fit under `limit`. A request larger than the limit itself waits for
   * an empty window (the API refuses it anyway; waiting keeps it from starving everyone else).
   */
  waitForTokens(tokens: number, limit: number, now: number): number {
    if (this.sum + tokens <= limit || this.count === 0) return 0;
    let remaining = this.sum;
    for (let index = this.head; index < this.entries.length; index++) {
      const entry = this.entries[index] as WindowEntry;
      remaining -= entry.tokens;
      if (remaining + tokens <= limit || index === this.entries.length - 1)
        return entry.at + this.windowMs - now;
    }
    return this.windowMs;
  }
}
