/**
 * What an exporter's SDK (OpenTelemetry's, per signal, or Braintrust's) can say about delivery:
 * whether what was handed to it since a point reached its destination. With it, attempts are
 * exported from the inference log and a watermark in the store records what was delivered (see
 * LoggedAttemptExport).
 */
export interface ExportDelivery {
  /**
   * Called before a page of spans (or measurements, or rows) is handed to the SDK. The flush it
   * returns sends what the SDK holds and resolves true only when nothing handed over since the call
   * was lost (an export that failed in the background counts too); it never throws.
   */
  begin(): () => Promise<boolean>;
}
