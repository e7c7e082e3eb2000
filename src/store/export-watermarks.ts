/**
 * What a watermark counts, and so where a new one starts: events (the last event logged now), runs
 * (the last run started now), or the job ends of runs after `jobEndsAfterRun` (an event id: just
 * before the first event of a later run, so those runs' job ends are all still to come).
 */
export type WatermarkOf = 'events' | 'runs' | { jobEndsAfterRun: number };

/**
 * How far an exporter (OpenTelemetry's traces, its metrics, Braintrust) has delivered the inference log: the id
 * of the last event it handed over and saw accepted. An exporter that dies (a run killed with
 * SIGKILL) loses what it held in memory, never what the log holds; the next run exports the events
 * after the watermark first.
 */
export interface ExportWatermarks {
  /**
   * The id of the last event `exporter` delivered (or, `of: 'runs'`, of the last run whose spans it
   * delivered). An exporter with no watermark yet starts at the last event logged (run started) now:
   * what was logged before it was first set up is not its backlog. An exporter of job ends starts
   * before the runs after the one given, whose job ends are its backlog.
   */
  exportWatermark(exporter: string, of?: WatermarkOf): Promise<number>;
  /** Moves the watermark forward to `eventId` (a run id for an exporter of runs) once delivered; never back. */
  advanceExportWatermark(exporter: string, eventId: number): Promise<void>;
}
