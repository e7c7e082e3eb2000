/** Below this many observed tokens the ratio is noise; keep the raw estimate. */
const MIN_EVIDENCE_TOKENS = 200;

/**
 * Learns how the local token estimate compares with what the API counts, from the usage reported
 * by finished requests, so the enqueued-token budget is planned with realistic numbers. Starts at
 * 1 and moves only with evidence; estimates are never scaled below half or above four times.
 */
export class TokenCalibration {
  private estimated = 0;
  private actual = 0;

  /** Records one request: its unscaled estimate and the input tokens the API billed. */
  observe(estimatedTokens: number, actualTokens: number): void {
    if (estimatedTokens <= 0 || actualTokens <= 0) return;
    this.estimated += estimatedTokens;
    this.actual += actualTokens;
  }

  /** Factor applied to raw estimates. */
  scale(): number {
    if (this.estimated < MIN_EVIDENCE_TOKENS) return 1;
    return Math.min(4, Math.max(0.5, this.actual / this.estimated));
  }
}
