/**
 * Spreads starts evenly over time (the generic cell rate algorithm): at `ratePerMinute`, one unit
 * every 60 000 / rate ms, with up to `burstMs` of them allowed early. A sliding-window quota alone
 * lets a whole minute's requests go in the first instant; when the real limit is lower than the
 * configured one, that burst comes back as a storm of 429s. Paced, at most a burst's worth is
 * refused before the first 429 slows the sender down.
 */
export class Pacer {
  /** When the next unit would be due at the current rate (the theoretical arrival time). */
  private due = Number.NEGATIVE_INFINITY;

  constructor(private readonly burstMs: number) {}

  /** Wait before the next start at `ratePerMinute` (0 = now). */
  waitFor(now: number, ratePerMinute: number): number {
    if (ratePerMinute <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, Math.ceil(this.due - this.burstMs - now));
  }

  /** Books `units` started at `now`. */
  take(now: number, units: number, ratePerMinute: number): void {
    this.due = Math.max(this.due, now) + (units * 60_000) / ratePerMinute;
  }

  /** Corrects a booking by `units` (negative: fewer were used than booked). */
  adjust(units: number, ratePerMinute: number): void {
    if (ratePerMinute > 0) this.due += (units * 60_000) / ratePerMinute;
  }
}
