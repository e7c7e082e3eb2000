import type { ExportDelivery } from '../telemetry/export-delivery.js';

/** The result an OpenTelemetry exporter reports for one export (`ExportResultCode.SUCCESS` is 0). */
interface ExportResult {
  code: number;
}

/** The part of a span or metric exporter watched: its one export method. */
interface Exporter<T> {
  export(items: T, resultCallback: (result: ExportResult) => void): void;
}

/**
 * Counts an exporter's exports as they end, so a flush can tell whether everything handed to the SDK
 * since a point reached the collector. The SDK's flushes cannot: a metric reader's flush swallows a
 * failed export, and a span processor's flush does not see the exports its timer started (a failed
 * one dropped its spans). Every export is counted, wherever it was started.
 */
export class ExportTally {
  private succeeded = 0;
  private failed = 0;
  private readonly inFlight = new Set<Promise<void>>();

  /** Counts the exporter's exports from now on (its other methods are left as they are); returns it. */
  watch<T, E extends Exporter<T>>(exporter: E & Exporter<T>): E {
    const original = exporter.export.bind(exporter);
    exporter.export = (items, resultCallback) => {
      let ended: () => void = () => undefined;
      const exporting = new Promise<void>((resolve) => (ended = resolve));
      this.inFlight.add(exporting);
      const end = (result: ExportResult) => {
        if (result.code === 0) this.succeeded++;
        else this.failed++;
        this.inFlight.delete(exporting);
        ended();
      };
      try {
        original(items, (result) => {
          end(result);
          resultCallback(result);
        });
      } catch (error) {
        // An exporter that throws instead of reporting: counted as failed, never awaited forever.
        end({ code: 1 });
        throw error;
      }
    };
    return exporter;
  }

  /**
   * A signal's delivery through `flush` (the provider's forceFlush): delivered when no export
   * failed since `begin` and, when `needsExport`, at least one succeeded (a metric reader's flush
   * resolves even when its export failed).
   */
  delivery(flush: () => Promise<void>, needsExport: boolean): ExportDelivery {
    return {
      begin: () => {
        const failed = this.failed;
        const succeeded = this.succeeded;
        return async () => {
          try {
            await flush();
          } catch {
            return false;
          }
          // Exports a timer started before the flush are not awaited by it.
          await Promise.all(this.inFlight);
          return this.failed === failed && (!needsExport || this.succeeded > succeeded);
        };
      },
    };
  }
}
