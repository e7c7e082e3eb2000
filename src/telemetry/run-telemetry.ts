import { rename, writeFile } from 'node:fs/promises';
import { describeError } from '../errors.js';
import { join } from 'node:path';
import type { RunnerEvent } from '../runner/events.js';
import type { InferenceEvent } from '../store/event-log.js';
import type { WorkloadStore } from '../store/store.js';
import { emptyEvent } from './attempt-event.js';
import { gatherRunReport } from './report/run-report.js';
import { renderRunReport } from './report/render-report.js';
import { redact } from '../secrets/redact.js';
import type { TextArchive } from './text-archive.js';
import { makeFolder } from '../make-folder.js';

/** Something that takes the runner's events elsewhere (OpenTelemetry, Braintrust, logs). */
export interface TelemetrySink {
  handle(event: RunnerEvent): void;
  /** Sends what is buffered; bounded in time, never throws; false when something was left unsent. */
  close(): Promise<boolean | void>;
}

export interface RunTelemetryOptions {
  store: WorkloadStore;
  archive: TextArchive;
  workload: string;
  /** Where `reports/run-<id>.md` and `report.md` (the latest) are written. */
  dataDir: string;
  sinks?: TelemetrySink[];
  now: () => number;
  /**
   * Told once per kind of write that fails (the inference log, the prompt archive, the report, an
   * exporter), naming what was lost (the run goes on), and at `close` how many job transitions the
   * log lost.
   */
  warn: (message: string) => void;
}

/**
 * The runner's telemetry beside the run: job transitions go to the inference log (attempts are
 * logged by the store with their outcome), every event goes to the sinks, and when a run ends its
 * Markdown report is written beside the state store. Nothing here can stop or slow the run: store
 * writes are queued, and a failure is reported once.
 */
export class RunTelemetry {
  private queue: Promise<void> = Promise.resolve();
  private runId: number | null = null;
  /** The kinds of failure already told (see warnOnce). */
  private readonly warned = new Set<string>();
  /** Job transitions whose inference-log write failed: the log misses them. */
  private lostJobEvents = 0;
  private readonly sinks: TelemetrySink[];

  constructor(private readonly options: RunTelemetryOptions) {
    this.sinks = options.sinks ?? [];
  }

  /** The runner's listener. */
  handle = (event: RunnerEvent): void => {
    if (event.type === 'run-started') this.runId = event.runId;
    const logged = this.jobEvent(event);
    if (logged) this.enqueue(() => this.options.store.appendEvents([logged]), JOB_EVENTS, 1);
    if (event.type === 'run-finished') {
      const runId = event.runId;
      this.enqueue(() => this.options.archive.flush(), ARCHIVE);
      this.enqueue(() => this.writeReport(runId), this.reportFailure(runId));
    }
    for (const sink of this.sinks) {
      try {
        sink.handle(event);
      } catch (error) {
        this.warnOnce('export', `telemetry export failed: ${describeError(error)}`);
      }
    }
  };

  /**
   * Waits for queued writes, tells how many job transitions the inference log lost (if any), then
   * closes every sink (each bounded in time); false when an exporter was left with something unsent
   * (its requests may still be pending).
   */
  async close(): Promise<boolean> {
    this.enqueue(() => this.options.archive.flush(), ARCHIVE);
    await this.queue;
    if (this.lostJobEvents > 0) {
      // Told once the writes are done: only the first failure was told, and the later ones were lost silently.
      const count = this.lostJobEvents;
      this.lostJobEvents = 0;
      this.options.warn(
        `${count} job transition${count === 1 ? ' was' : 's were'} not written to the inference log ` +
          '(submitted, state changes, processed): `wavebatch log` and the run reports miss ' +
          `${count === 1 ? 'it' : 'them'}; the records, jobs and attempts in the state store are whole.`,
      );
    }
    const closed = await Promise.all(this.sinks.map((sink) => sink.close().catch(() => false)));
    return closed.every((result) => result !== false);
  }

  private async writeReport(runId: number): Promise<void> {
    const report = await gatherRunReport(this.options.store, this.options.workload, runId);
    if (!report) return;
    const markdown = redact(renderRunReport(report));
    const folder = join(this.options.dataDir, 'reports');
    await makeFolder(folder);
    await writeAtomically(join(folder, `run-${runId}.md`), markdown);
    await writeAtomically(join(this.options.dataDir, 'report.md'), markdown);
  }

  /** The inference-log row of a job transition, or null for events that are not one. */
  private jobEvent(event: RunnerEvent): InferenceEvent | null {
    const base = (type: string, jobId: string) => ({
      ...emptyEvent('job', type, this.options.now(), this.runId, 'batch'),
      jobId,
    });
    switch (event.type) {
      case 'job-submitted':
        return {
          ...base('submitted', event.jobId),
          jobName: event.remoteName,
          model: event.model,
          requests: event.requests,
        };
      case 'job-adopted':
        return { ...base('adopted', event.jobId), jobName: event.remoteName };
      case 'job-state':
        return {
          ...base(event.state, event.jobId),
          jobName: event.remoteName ?? null,
          message: event.error ? redact(event.error) : null,
          requests: event.released ?? null,
        };
      case 'job-processed':
        return {
          ...base('processed', event.jobId),
          jobName: event.remoteName ?? null,
          requests: event.requests,
        };
      case 'job-orphan':
        // A remote job of this store that nothing tracked, cancelled by the run.
        return {
          ...base(`orphan-${event.action}`, event.displayName),
          jobName: event.remoteName,
          message: event.reason,
        };
      case 'job-stalled':
        return {
          ...base(event.action === 'cancelled' ? 'stall-cancelled' : 'stalled', event.jobId),
          jobName: event.remoteName,
          message: `${event.state} for ${Math.round(event.ageMs / 1000)} s (stalled past ${Math.round(event.thresholdMs / 1000)} s)`,
        };
      case 'run-started':
      case 'run-finished':
      case 'sync':
      case 'record-done':
      case 'record-failed':
      case 'quota-wait':
      case 'retry':
      case 'progress':
      case 'stale-redo':
      case 'lane-decision':
      case 'warning':
        return null;
      default:
        return event satisfies never;
    }
  }

  /** What is lost when the report of `runId` cannot be written, and where it can be had instead. */
  private reportFailure(runId: number): WriteFailure {
    const { dataDir } = this.options;
    return {
      kind: 'report',
      says: (cause) =>
        `the report of run ${runId} could not be written to ${join(dataDir, 'reports', `run-${runId}.md`)} ` +
        `and ${join(dataDir, 'report.md')}: ${cause} (the run is whole; \`wavebatch report ${runId}\` ` +
        'prints it from the state store)',
    };
  }

  /**
   * Queues a write; `failure` says what was lost if it fails, and `jobEvents` are the inference-log
   * rows it holds, counted as lost.
   */
  private enqueue(work: () => Promise<void>, failure: WriteFailure, jobEvents = 0): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.lostJobEvents += jobEvents;
      this.warnOnce(failure.kind, failure.says(describeError(error)));
    });
  }

  /** Once per kind of failure: a failing disk must not flood the run, yet each loss is named. */
  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.options.warn(redact(message));
  }
}

/** A queued write's failure: its kind (told once) and the warning naming what it lost. */
interface WriteFailure {
  kind: string;
  says: (cause: string) => string;
}

const JOB_EVENTS: WriteFailure = {
  kind: 'job-events',
  says: (cause) =>
    `the inference log could not be written: ${cause} (the run goes on; how many job transitions ` +
    'the log lost is told when it ends)',
};

/** The archive's buffer is dropped when its save fails: those texts are gone, not retried. */
const ARCHIVE: WriteFailure = {
  kind: 'archive',
  says: (cause) =>
    `the prompt archive could not be saved to the state store: ${cause} (the run goes on; the ` +
    'prompts and generation configs it held are lost, so attempts of the inference log refer to ' +
    'texts it does not hold)',
};

/** Temp file and rename, so a reader never sees half a report. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, text, 'utf8');
  await rename(temp, path);
}
