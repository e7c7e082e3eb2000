import type { ExportDelivery } from './export-delivery.js';

/**
 * What the registered OpenTelemetry SDK can say about delivery, per signal: whether what was handed
 * to it since a point reached the collector. The API cannot tell (a span handed over is gone from
 * the caller's view); the CLI's SDK set-up can, and a library user with an SDK of their own may
 * implement it. With it, attempts are exported from the inference log and a watermark in the store
 * records what was delivered (see LoggedAttemptExport).
 */
export interface OpenTelemetryDelivery {
  /** Null when traces are not exported. */
  traces: ExportDelivery | null;
  /** Null when metrics are not exported. */
  metrics: ExportDelivery | null;
}

/** @deprecated Renamed `ExportDelivery`: it serves Braintrust as well as OpenTelemetry's signals. */
export type SignalDelivery = ExportDelivery;
