import { MAX_TIMER_MS } from '../clock.js';
import type { EventLog, StoredEvent } from '../store/event-log.js';
import type { ExportWatermarks } from '../store/export-watermarks.js';
import type { OpenTelemetryDelivery, SignalDelivery } from './otel-delivery.js';

/** The store's watermarks of the two signals: each moves on its own delivery. */
export const TRACES_WATERMARK = 'opentelemetry.traces';
export const METRICS_WATERMARK = 'opentelemetry.metrics';
/**
 * Events read and handed to the SDK at a time: well within the span processor's queue (2,048 spans;
 * past it spans are dropped), with room for the run's and jobs' own spans.
 */
export const EXPORT_PAGE = 500;
/** A page that is not full is exported once this long has passed since the last (the SDK's own batch delay). */
export const EXPORT_INTERVAL_MS = 5000;
/** How long the last pages may take when the run ends. */
export const FINAL_EXPORT_TIMEOUT_MS = 2000;

export interface LoggedAttemptExportOptions {
  store: Pick<EventLog, 'listEvents'> & ExportWatermarks;
  delivery: OpenTelemetryDelivery;
  /** Hands one attempt's span to the SDK. */
  span(event: StoredEvent): void;
  /** Records one attempt's measurements. */
  measure(event: StoredEvent): void;
  now: () => number;
  /** Told once when a page could not be delivered (it is exported again later). */
  warn: (message: string) => void;
  finalTimeoutMs?: number;
}

/** One signal's progress: delivered up to an event id (the store's watermark), handed over up to another. */
interface SignalProgress {
  watermark: string;
  delivery: SignalDelivery;
  delivered: number;
  handedOver: number;
  /** Something was handed over and not delivered yet. */
  owed: boolean;
}

/** The events exported as attempts: every attempt, and each record that could not be sent at all. */
function isExported(event: StoredEvent): boolean {
  return event.kind === 'attempt' || (event.kind === 'record' && event.type === 'rejected');
}

/**
 * Exports the attempts from the inference log, not from the runner's events: a page at a time after
 * each signal's watermark, which moves only once the SDK says the page was delivered. A run killed
 * with SIGKILL loses the spans and counts its SDK held; the next run exports them first. A page
 * delivered just before a kill, its watermark not yet moved, is exported again: spans with the same
 * ids (see span-ids.ts), counts counted twice. Measurements are recorded once per process (the
 * cumulative counters resend them), spans handed over again until delivered.
 */
export class LoggedAttemptExport {
  private readonly signals: SignalProgress[];
  private readonly loaded: Promise<void>;
  private exporting: Promise<boolean> | null = null;
  /** Attempts logged since the last export; the backlog (what a killed run left) counts as one, exported at the first poll. */
  private pending = 1;
  private lastExport = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Set when the final export ran out of time: the store may be closed, so nothing is written any more. */
  private abandoned = false;
  private warned = false;

  constructor(private readonly options: LoggedAttemptExportOptions) {
    const { traces, metrics } = options.delivery;
    this.signals = [
      ...(traces
        ? [{ watermark: TRACES_WATERMARK, delivery: traces, delivered: 0, handedOver: 0, owed: false }]
        : []),
      ...(metrics
        ? [{ watermark: METRICS_WATERMARK, delivery: metrics, delivered: 0, handedOver: 0, owed: false }]
        : []),
    ];
    this.loaded = this.load();
  }

  /** An attempt was logged. */
  attemptLogged(): void {
    this.pending++;
    this.poll();
  }

  /** Exports a page when one is full, or when one waits and the interval has passed; called at every runner event. */
  poll(): void {
    if (this.closed || this.pending === 0) return;
    if (this.pending >= EXPORT_PAGE || this.options.now() - this.lastExport >= EXPORT_INTERVAL_MS)
      this.startExport();
  }

  /**
   * Exports what is left, for at most the final timeout; false when something was left (the next
   * run on the workload exports it). Nothing touches the store after it returns.
   */
  async close(): Promise<boolean> {
    this.closed = true;
    const finished = (async () => {
      await this.exporting;
      return this.exportAll();
    })().catch(() => false);
    const timeoutMs = Math.min(this.options.finalTimeoutMs ?? FINAL_EXPORT_TIMEOUT_MS, MAX_TIMER_MS);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      const done = await Promise.race([finished, late]);
      if (!done) {
        this.abandoned = true;
        this.warnOnce('the attempts not sent in time are sent by the next run on this workload');
      }
      return done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the watermarks are read (a first run's are started): before the run logs anything. */
  ready(): Promise<void> {
    return this.loaded;
  }

  private async load(): Promise<void> {
    const watermarks = await Promise.all(
      this.signals.map((signal) => this.options.store.exportWatermark(signal.watermark)),
    );
    for (const [index, signal] of this.signals.entries()) {
      signal.delivered = watermarks[index] ?? 0;
      signal.handedOver = signal.delivered;
    }
  }

  private startExport(): void {
    if (this.exporting) return;
    this.pending = 0;
    this.lastExport = this.options.now();
    this.exporting = this.exportAll()
      .catch((error: unknown) => {
        this.warnOnce(error instanceof Error ? error.message : String(error));
        return false;
      })
      .finally(() => (this.exporting = null));
  }

  /** Pages until none is left or one was not delivered; true when everything logged was delivered. */
  private async exportAll(): Promise<boolean> {
    await this.loaded;
    for (;;) {
      if (this.abandoned) return false;
      const from = Math.min(...this.signals.map((signal) => signal.delivered));
      const page = await this.options.store.listEvents({ afterId: from, limit: EXPORT_PAGE });
      const last = page.at(-1)?.id;
      if (last === undefined) return true;
      if (!(await this.exportPage(page, last))) return false;
      if (page.length < EXPORT_PAGE) return true;
    }
  }

  /** Hands a page to each signal that has not delivered it, flushes, and moves the delivered watermarks. */
  private async exportPage(page: StoredEvent[], last: number): Promise<boolean> {
    const flushes = this.signals.map((signal) => {
      if (signal.delivered >= last) return Promise.resolve(true);
      const flush = signal.delivery.begin();
      const handOver = signal.watermark === TRACES_WATERMARK ? this.options.span : this.options.measure;
      for (const event of page)
        if (event.id > signal.handedOver && isExported(event)) {
          handOver(event);
          signal.owed = true;
        }
      // Spans not delivered are handed over again; measurements stay in the cumulative counters.
      if (signal.watermark === METRICS_WATERMARK) signal.handedOver = last;
      // A page of job events alone has nothing to deliver.
      return signal.owed ? flush() : Promise.resolve(true);
    });
    const delivered = await Promise.all(flushes);
    let all = true;
    for (const [index, signal] of this.signals.entries()) {
      if (this.abandoned) return false;
      if (!delivered[index]) {
        all = false;
        continue;
      }
      if (signal.delivered >= last) continue;
      await this.options.store.advanceExportWatermark(signal.watermark, last);
      signal.delivered = last;
      signal.handedOver = Math.max(signal.handedOver, last);
      signal.owed = false;
    }
    if (!all)
      this.warnOnce(
        'the collector did not take every span or measurement; they are sent again (by the next run at the latest)',
      );
    return all;
  }

  private warnOnce(reason: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn(`OpenTelemetry export is behind: ${reason}`);
  }
}
