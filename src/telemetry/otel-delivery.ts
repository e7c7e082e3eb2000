/**
 * What the registered OpenTelemetry SDK can say about delivery, per signal: whether what was handed
 * to it since a point reached the collector. The API cannot tell (a span handed over is gone from
 * the caller's view); the CLI's SDK set-up can, and a library user with an SDK of their own may
 * implement it. With it, attempts are exported from the inference log and a watermark in the store
 * records what was delivered (see LoggedAttemptExport).
 */
export interface OpenTelemetryDelivery {
  /** Null when traces are not exported. */
  traces: SignalDelivery | null;
  /** Null when metrics are not exported. */
  metrics: SignalDelivery | null;
}

export interface SignalDelivery {
  /**
   * Called before a page of spans (or measurements) is handed to the SDK. The flush it returns sends
   * what the SDK holds and resolves true only when nothing handed over since the call was lost (an
   * export that failed in the background counts too); it never throws.
   */
  begin(): () => Promise<boolean>;
}
