/**
 * How far an exporter (OpenTelemetry's traces, its metrics, Braintrust) has delivered the inference log: the id
 * of the last event it handed over and saw accepted. An exporter that dies (a run killed with
 * SIGKILL) loses what it held in memory, never what the log holds; the next run exports the events
 * after the watermark first.
 */
export interface ExportWatermarks {
  /**
   * The id of the last event `exporter` delivered. An exporter with no watermark yet starts at the
   * last event logged now (what was logged before it was first set up is not its backlog).
   */
  exportWatermark(exporter: string): Promise<number>;
  /** Moves the watermark forward to `eventId` once its events were delivered; never back. */
  advanceExportWatermark(exporter: string, eventId: number): Promise<void>;
}
