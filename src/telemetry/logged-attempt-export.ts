import { MAX_TIMER_MS } from '../clock.js';
import { describeError } from '../errors.js';
import type { EventLog, StoredEvent } from '../store/event-log.js';
import type { ExportWatermarks } from '../store/export-watermarks.js';
import type { ExportDelivery } from './export-delivery.js';

/**
 * Events read and handed to the SDK at a time: well within the OpenTelemetry span processor's queue
 * (2,048 spans; past it spans are dropped), with room for the run's and jobs' own spans, and within
 * the Braintrust SDK's (15,000 rows, three per attempt; past it rows are dropped without an error, so
 * its flush would say a page was delivered that was not).
 */
export const EXPORT_PAGE = 500;
/** A page that is not full is exported once this long has passed since the last (the SDK's own batch delay). */
export const EXPORT_INTERVAL_MS = 5000;
/** How long the last pages may take when the run ends. */
export const FINAL_EXPORT_TIMEOUT_MS = 2000;

/**
 * One destination of the logged attempts (OpenTelemetry's traces, its metrics, Braintrust), with
 * its own watermark in the store: each moves on its own delivery.
 */
export interface AttemptChannel {
  /** The store's name for this channel's watermark. */
  watermark: string;
  /** What the channel's SDK can say about delivery: a flush that resolves true once what was handed over got there. */
  delivery: ExportDelivery;
  /** Hands one logged attempt to the SDK. */
  handOver(event: StoredEvent): void | Promise<void>;
  /**
   * What an attempt handed over and not delivered becomes: handed over again until delivered
   * (`resend`: spans, log rows, each sent again under the same id), or kept by the SDK, which sends
   * it again on its own (`keep`: cumulative counts, which a second hand-over would count twice).
   */
  undelivered: 'resend' | 'keep';
  /** Completes a page's events before they are handed over (reads back outputs kept elsewhere). */
  complete?(events: StoredEvent[]): Promise<StoredEvent[]>;
}

export interface LoggedAttemptExportOptions {
  /** Reads the attempts (every attempt, and each record that could not be sent at all) a page at a time. */
  store: Pick<EventLog, 'attemptsAfter'> & ExportWatermarks;
  channels: AttemptChannel[];
  /** Names the export in its warning: `<label> is behind: …`. */
  label: string;
  now: () => number;
  /** Told once when a page could not be delivered (it is exported again later). */
  warn: (message: string) => void;
  finalTimeoutMs?: number;
}

/** One channel's progress: delivered up to an event id (the store's watermark), handed over up to another. */
interface ChannelProgress {
  channel: AttemptChannel;
  delivered: number;
  handedOver: number;
  /** Something was handed over and not delivered yet. */
  owed: boolean;
}

/**
 * Exports the attempts from the inference log, not from the runner's events: a page at a time after
 * each channel's watermark, which moves only once the SDK says the page was delivered. A run killed
 * with SIGKILL loses the spans, counts and rows its SDK held; the next run exports them first. A page
 * delivered just before a kill, its watermark not yet moved, is exported again: spans and rows under
 * the same ids (see span-ids.ts), counts counted twice. Counts are recorded once per process (the
 * cumulative counters resend them), spans and rows handed over again until delivered.
 */
export class LoggedAttemptExport {
  private readonly channels: ChannelProgress[];
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
    this.channels = options.channels.map((channel) => ({
      channel,
      delivered: 0,
      handedOver: 0,
      owed: false,
    }));
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
   * Exports what is left, for at most the final timeout (or `timeoutMs`); false when something was
   * left (the next run on the workload exports it). Nothing touches the store after it returns.
   */
  async close(timeoutMs = this.options.finalTimeoutMs ?? FINAL_EXPORT_TIMEOUT_MS): Promise<boolean> {
    this.closed = true;
    const finished = (async () => {
      await this.exporting;
      return this.exportAll();
    })().catch(() => false);
    timeoutMs = Math.min(timeoutMs, MAX_TIMER_MS);
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
      this.channels.map((progress) => this.options.store.exportWatermark(progress.channel.watermark)),
    );
    for (const [index, progress] of this.channels.entries()) {
      progress.delivered = watermarks[index] ?? 0;
      progress.handedOver = progress.delivered;
    }
  }

  private startExport(): void {
    if (this.exporting) return;
    this.pending = 0;
    this.lastExport = this.options.now();
    this.exporting = this.exportAll()
      .catch((error: unknown) => {
        this.warnOnce(describeError(error));
        return false;
      })
      .finally(() => (this.exporting = null));
  }

  /** Pages until none is left or one was not delivered; true when everything logged was delivered. */
  private async exportAll(): Promise<boolean> {
    await this.loaded;
    for (;;) {
      if (this.abandoned) return false;
      const from = Math.min(...this.channels.map((progress) => progress.delivered));
      const page = await this.options.store.attemptsAfter(from, EXPORT_PAGE);
      const last = page.at(-1)?.id;
      if (last === undefined) return true;
      if (!(await this.exportPage(page, last))) return false;
      if (page.length < EXPORT_PAGE) return true;
    }
  }

  /** Hands a page to each channel that has not delivered it, flushes, and moves the delivered watermarks. */
  private async exportPage(page: StoredEvent[], last: number): Promise<boolean> {
    const delivered = await Promise.all(
      this.channels.map((progress) => this.deliverPage(progress, page, last)),
    );
    let all = true;
    for (const [index, progress] of this.channels.entries()) {
      if (this.abandoned) return false;
      if (!delivered[index]) {
        all = false;
        continue;
      }
      if (progress.delivered >= last) continue;
      await this.options.store.advanceExportWatermark(progress.channel.watermark, last);
      progress.delivered = last;
      progress.handedOver = Math.max(progress.handedOver, last);
      progress.owed = false;
    }
    if (!all)
      this.warnOnce(
        'not everything handed over was delivered; it is sent again (by the next run at the latest)',
      );
    return all;
  }

  /** Hands the page's attempts not handed over yet to one channel and flushes it; true once delivered. */
  private async deliverPage(progress: ChannelProgress, page: StoredEvent[], last: number): Promise<boolean> {
    const { channel } = progress;
    if (progress.delivered >= last) return true;
    const flush = channel.delivery.begin();
    const fresh = page.filter((event) => event.id > progress.handedOver);
    const events = channel.complete && fresh.length > 0 ? await channel.complete(fresh) : fresh;
    for (const event of events) {
      await channel.handOver(event);
      progress.owed = true;
    }
    if (channel.undelivered === 'keep') progress.handedOver = last;
    return progress.owed ? flush() : true;
  }

  private warnOnce(reason: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn(`${this.options.label} is behind: ${reason}`);
  }
}
