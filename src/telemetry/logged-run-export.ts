import { MAX_TIMER_MS } from '../clock.js';
import { describeError } from '../errors.js';
import type { EventLog } from '../store/event-log.js';
import type { ExportWatermarks } from '../store/export-watermarks.js';
import type { RunTraces, TracedJob, TracedRun } from '../store/run-traces.js';
import type { ExportDelivery } from './export-delivery.js';
import { EXPORT_PAGE, FINAL_EXPORT_TIMEOUT_MS } from './logged-attempt-export.js';
import { jobEnding, type JobSpanRun } from './stored-run-spans.js';

/** Runs read at a time. */
const RUNS_PAGE = 20;
/**
 * How often the run in progress is read for the jobs that ended and were not sent, while some are
 * owed: a job's end is logged just after the runner reports it, so a first look may come too soon.
 */
export const JOB_SPANS_INTERVAL_MS = 1000;

export interface LoggedRunExportOptions {
  store: RunTraces & ExportWatermarks & Pick<EventLog, 'listRuns'>;
  /** The store's name for this export's watermark (a run id). */
  watermark: string;
  /** The store's name for the watermark of the ended jobs' spans (the event id of the last job end sent). */
  jobsWatermark: string;
  delivery: ExportDelivery;
  /** Hands a run's own span to the SDK. */
  handOverRun(run: TracedRun): void;
  /** Hands the span of one of the run's batch jobs to the SDK. */
  handOverJob(run: JobSpanRun, job: TracedJob): void;
  now: () => number;
  /** Names the export in its warning: `<label> is behind: …`. */
  label: string;
  /** Told once when a run's spans could not be delivered (they are exported again later). */
  warn: (message: string) => void;
}

/**
 * Exports the spans of runs and their batch jobs from the runs table and the inference log, not from
 * the process that made them: a job's span as soon as its end is logged (results applied, FAILED, …),
 * while its run goes on, a watermark in the store naming the last job end whose span was delivered;
 * the run's own span and those of its jobs still open once the run is over (when it finished, or, for
 * a run that stopped without finishing, by the next run on the workload), a second watermark naming
 * the last run whose spans were delivered. A run killed with SIGKILL never ended its spans; the next
 * run sends what was not delivered, under the ids its attempts refer to (see span-ids.ts), and no
 * job span that was. A span sent again (its delivery not recorded before a kill) is the same span,
 * under the same ids.
 */
export class LoggedRunExport {
  private readonly loaded: Promise<void>;
  /** The last run whose spans were delivered (the store's watermark). */
  private delivered = 0;
  /** The event id of the last job end whose span was delivered (the store's jobs watermark). */
  private jobsDelivered = 0;
  /** The last run known to be over: every run before this process's, then each of its own as it finishes. */
  private over = 0;
  /** This process's run in progress, whose jobs' spans are sent as they end. */
  private current: JobSpanRun | null = null;
  /** Job ends the runner reported in the current run, and those found logged and sent (or sent before). */
  private endsReported = 0;
  private endsSent = 0;
  private lastJobsLook = Number.NEGATIVE_INFINITY;
  private exporting: Promise<boolean> | null = null;
  private again = false;
  private abandoned = false;
  private warned = false;

  constructor(private readonly options: LoggedRunExportOptions) {
    this.loaded = this.load();
    // The runs a killed process left are sent at once, in the background.
    this.loaded.then(
      () => this.start(),
      (error: unknown) => this.warnOnce(describeError(error)),
    );
  }

  /** Resolves once the watermark and the runs over are read: before this process starts a run. */
  ready(): Promise<void> {
    return this.loaded.catch(() => undefined);
  }

  /** A run of this process started: its jobs' spans are sent as they end. */
  runStarted(runId: number, startedAt: number): void {
    this.current = { id: runId, startedAt: new Date(startedAt).toISOString(), endedAt: null };
    this.endsReported = 0;
    this.endsSent = 0;
  }

  /** A batch job of the current run ended (its results applied, or FAILED, EXPIRED, …): its span is owed. */
  jobEnded(): void {
    this.endsReported++;
    this.poll();
  }

  /** Looks for the ended jobs owed, at most once per interval; called at every runner event. */
  poll(): void {
    if (this.endsSent >= this.endsReported || this.abandoned) return;
    if (this.options.now() - this.lastJobsLook < JOB_SPANS_INTERVAL_MS) return;
    this.lastJobsLook = this.options.now();
    this.start();
  }

  /** A run of this process finished (its row is written): its spans are exported. */
  runFinished(runId: number): void {
    this.over = Math.max(this.over, runId);
    if (this.current?.id === runId) this.current = null;
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
    // A new jobs watermark starts before the runs not delivered: their ended jobs are still to send.
    this.jobsDelivered = await store.exportWatermark(this.options.jobsWatermark, {
      jobEndsAfterRun: delivered,
    });
  }

  private start(): void {
    if (this.abandoned) return;
    if (this.exporting) {
      this.again = true;
      return;
    }
    this.exporting = this.exportAll()
      .catch((error: unknown) => {
        this.warnOnce(describeError(error));
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

  /**
   * Exports run after run until none over is left or one was not delivered, then the current run's
   * ended jobs; true when all were delivered.
   */
  private async exportAll(): Promise<boolean> {
    return (await this.exportRuns()) && this.exportEndedJobs();
  }

  /** Exports run after run until none over is left or one was not delivered; true when all were. */
  private async exportRuns(): Promise<boolean> {
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
   * Hands over the run's span and its jobs' not sent as they ended, a page at a time (within the
   * SDK's queue), flushing each; true once all were delivered (and the jobs watermark moved past the
   * run's job ends).
   */
  private async exportRun(run: TracedRun): Promise<boolean> {
    const jobs = (await this.options.store.tracedJobs(run.id)).filter(
      (job) => (jobEnding(job)?.id ?? Number.POSITIVE_INFINITY) > this.jobsDelivered,
    );
    for (let from = -1; from < jobs.length; from += EXPORT_PAGE) {
      if (this.abandoned) return false;
      const flush = this.options.delivery.begin();
      if (from < 0) this.options.handOverRun(run);
      for (const job of jobs.slice(Math.max(from, 0), from + EXPORT_PAGE)) this.options.handOverJob(run, job);
      if (!(await flush())) return false;
    }
    const lastEnd = Math.max(0, ...jobs.map((job) => jobEnding(job)?.id ?? 0));
    if (lastEnd > this.jobsDelivered) await this.advanceJobs(lastEnd);
    return !this.abandoned;
  }

  /**
   * Hands over the spans of the current run's jobs that ended and were not sent, in the order they
   * ended, a page at a time, moving the jobs watermark after each page delivered; true once all were.
   * Only once every earlier run was delivered: the watermark then passes none of their job ends.
   */
  private async exportEndedJobs(): Promise<boolean> {
    const run = this.current;
    if (!run || run.id <= this.over || this.delivered < this.over) return true;
    const ended = (await this.options.store.tracedJobs(run.id))
      .map((job) => ({ job, end: jobEnding(job)?.id ?? 0 }))
      .filter(({ end }) => end > 0);
    const owed = ended.filter(({ end }) => end > this.jobsDelivered).sort((a, b) => a.end - b.end);
    for (let from = 0; from < owed.length; from += EXPORT_PAGE) {
      if (this.abandoned) return false;
      const page = owed.slice(from, from + EXPORT_PAGE);
      const flush = this.options.delivery.begin();
      for (const { job } of page) this.options.handOverJob(run, job);
      if (!(await flush())) {
        this.warnOnce('a job’s span was not delivered; it is sent again (with its run at the latest)');
        return false;
      }
      if (this.abandoned) return false;
      await this.advanceJobs(page.at(-1)?.end ?? 0);
    }
    if (this.current === run) this.endsSent = Math.max(this.endsSent, ended.length);
    return true;
  }

  private async advanceJobs(lastEnd: number): Promise<void> {
    await this.options.store.advanceExportWatermark(this.options.jobsWatermark, lastEnd);
    this.jobsDelivered = Math.max(this.jobsDelivered, lastEnd);
  }

  private warnOnce(reason: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn(`${this.options.label} is behind: ${reason}`);
  }
}
