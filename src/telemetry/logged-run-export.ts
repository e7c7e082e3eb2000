import { MAX_TIMER_MS } from '../clock.js';
import type { EventLog } from '../store/event-log.js';
import type { ExportWatermarks } from '../store/export-watermarks.js';
import type { RunTraces, TracedJob, TracedRun } from '../store/run-traces.js';
import type { ExportDelivery } from './export-delivery.js';
import { EXPORT_PAGE, FINAL_EXPORT_TIMEOUT_MS } from './logged-attempt-export.js';

/** Runs read at a time. */
const RUNS_PAGE = 20;

export interface LoggedRunExportOptions {
  store: RunTraces & ExportWatermarks & Pick<EventLog, 'listRuns'>;
  /** The store's name for this export's watermark (a run id). */
  watermark: string;
  delivery: ExportDelivery;
  /** Hands a run's own span to the SDK. */
  handOverRun(run: TracedRun): void;
  /** Hands the span of one of the run's batch jobs to the SDK. */
  handOverJob(run: TracedRun, job: TracedJob): void;
  /** Names the export in its warning: `<label> is behind: …`. */
  label: string;
  /** Told once when a run's spans could not be delivered (they are exported again later). */
  warn: (message: string) => void;
}

/**
 * Exports the spans of runs and their batch jobs from the runs table and the inference log, not from
 * the process that made them: each run once it is over (when it finished, or, for a run that
 * stopped without finishing, by the next run on the workload), a watermark in the store naming the
 * last run whose spans were delivered. A run killed with SIGKILL never ended its spans; the next run
 * sends them, under the ids its attempts refer to (see span-ids.ts). A run sent again (its delivery
 * not recorded before a kill) is the same spans, under the same ids.
 */
export class LoggedRunExport {
  private readonly loaded: Promise<void>;
  /** The last run whose spans were delivered (the store's watermark). */
  private delivered = 0;
  /** The last run known to be over: every run before this process's, then each of its own as it finishes. */
  private over = 0;
  private exporting: Promise<boolean> | null = null;
  private again = false;
  private abandoned = false;
  private warned = false;

  constructor(private readonly options: LoggedRunExportOptions) {
    this.loaded = this.load();
    // The runs a killed process left are sent at once, in the background.
    this.loaded.then(
      () => this.start(),
      (error: unknown) => this.warnOnce(describe(error)),
    );
  }

  /** Resolves once the watermark and the runs over are read: before this process starts a run. */
  ready(): Promise<void> {
    return this.loaded.catch(() => undefined);
  }

  /** A run of this process finished (its row is written): its spans are exported. */
  runFinished(runId: number): void {
    this.over = Math.max(this.over, runId);
    this.start();
  }

  /**
   * Exports the runs over and not delivered, for at most `timeoutMs`; false when some were left (the
   * next run on the workload exports them). Nothing touches the store after it returns.
   */
  async close(timeoutMs = FINAL_EXPORT_TIMEOUT_MS): Promise<boolean> {
    const finished = (async () => {
      await this.loaded;
      while (this.exporting) await this.exporting;
      return this.exportAll();
    })().catch(() => false);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>(
      (resolve) => (timer = setTimeout(() => resolve(false), Math.min(timeoutMs, MAX_TIMER_MS))),
    );
    try {
      const done = await Promise.race([finished, late]);
      if (!done) {
        this.abandoned = true;
        this.warnOnce('the runs not sent in time are sent by the next run on this workload');
      }
      return done;
    } finally {
      clearTimeout(timer);
    }
  }

  private async load(): Promise<void> {
    const { store, watermark } = this.options;
    // Read before this process starts a run: every run the table holds now is over.
    const [delivered, [latest]] = await Promise.all([
      store.exportWatermark(watermark, 'runs'),
      store.listRuns(1),
    ]);
    this.delivered = delivered;
    this.over = Math.max(this.over, latest?.id ?? 0);
  }

  private start(): void {
    if (this.abandoned) return;
    if (this.exporting) {
      this.again = true;
      return;
    }
    this.exporting = this.exportAll()
      .catch((error: unknown) => {
        this.warnOnce(describe(error));
        return false;
      })
      .finally(() => {
        this.exporting = null;
        if (this.again) {
          this.again = false;
          this.start();
        }
      });
  }

  /** Exports run after run until none over is left or one was not delivered; true when all were. */
  private async exportAll(): Promise<boolean> {
    for (;;) {
      const runs = await this.options.store.tracedRuns(this.delivered, this.over, RUNS_PAGE);
      for (const run of runs) {
        if (this.abandoned || !(await this.exportRun(run))) {
          this.warnOnce(
            'a run’s spans were not delivered; they are sent again (by the next run at the latest)',
          );
          return false;
        }
        if (this.abandoned) return false;
        await this.options.store.advanceExportWatermark(this.options.watermark, run.id);
        this.delivered = run.id;
      }
      if (runs.length < RUNS_PAGE) return true;
    }
  }

  /**
   * Hands over the run's span and its jobs', a page at a time (within the SDK's queue), flushing
   * each; true once all were delivered.
   */
  private async exportRun(run: TracedRun): Promise<boolean> {
    const jobs = await this.options.store.tracedJobs(run.id);
    for (let from = -1; from < jobs.length; from += EXPORT_PAGE) {
      if (this.abandoned) return false;
      const flush = this.options.delivery.begin();
      if (from < 0) this.options.handOverRun(run);
      for (const job of jobs.slice(Math.max(from, 0), from + EXPORT_PAGE)) this.options.handOverJob(run, job);
      if (!(await flush())) return false;
    }
    return true;
  }

  private warnOnce(reason: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn(`${this.options.label} is behind: ${reason}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
