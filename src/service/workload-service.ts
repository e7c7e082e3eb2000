import { existsSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadedConfigOf, type LoadedConfig, type WorkloadConfigInput } from '../config/index.js';
import { systemClock, type RunnerClock } from '../clock.js';
import { WavebatchError } from '../errors.js';
import {
  ChainAssembler,
  exportOutputFiles,
  exportOutputs,
  type ExportFormat,
  type OutputDocument,
  type OutputSink,
} from '../outputs/index.js';
import type { Lane } from '../lanes/lane.js';
import { configuredPriceList, modelPrices } from '../pricing/index.js';
import {
  currentProvenance,
  openWorkloadStore,
  workloadOutputs,
  workloadStoreForReading,
} from '../runner/workload-session.js';
import type {
  FailureFilter,
  FailureRow,
  JobRow,
  JobState,
  RecordAttempt,
  RecordFilter,
  StoredRecord,
  WorkloadStore,
} from '../store/store.js';
import type { EventFilter, RunRow, StoredEvent, StoredText } from '../store/event-log.js';
import { countStaleOutputs, type StaleOutputCounts } from '../outputs/staleness.js';
import { loadPrompt } from '../prompts/index.js';
import { gatherRunReport } from '../telemetry/report/run-report.js';
import { RecordContentHasher } from '../workload/content-hash.js';
import { mediaRootOf } from '../workload/index.js';
import { renderRunReport } from '../telemetry/report/render-report.js';
import { writeChainCsv, type ChainRecords } from './chain-export.js';
import { storedChains } from './chains.js';
import { estimateWorkload, type EstimateOptions, type WorkloadEstimate } from './estimate.js';
import { readEventOutputs } from '../outputs/event-outputs.js';
import { planRunSelection } from './run-selection.js';
import type { RecordSelection, SelectionPlan } from './selection.js';
import { ConfigNotLoadedError } from './errors.js';
import { redactValue } from '../secrets/redact.js';
import { openExportFile, prepareExportFolder, refuseOwnFolder } from './export-target.js';
import { latencyHistory } from '../runner/latency-history.js';
import { takeLease } from '../store/lease.js';
import { writeFailures, type FailureExportFormat } from './failure-export.js';
import { summarizeStatus, THROUGHPUT_WINDOW_MS, type WorkloadStatus } from './status.js';

/** Raised when `requeue` is given ids that are unknown or not dead letters: nothing is requeued. */
export class RequeueIdsError extends WavebatchError {
  readonly code = 'INPUT_RECORD_IDS';
  constructor(unknown: string[], notDead: { id: string; status: string }[]) {
    const parts = [
      ...(unknown.length > 0 ? [`unknown record ids: ${listed(unknown)}`] : []),
      ...(notDead.length > 0
        ? [`not dead-lettered: ${listed(notDead.map(({ id, status }) => `${id} (${status})`))}`]
        : []),
    ];
    super(
      `Nothing was requeued; ${parts.join('; ')}. \`wavebatch failures --dead\` lists the dead letters' ids.`,
    );
  }
}

/** The first ten items, comma-separated, and how many more. */
function listed(items: string[]): string {
  const shown = items.slice(0, 10).join(', ');
  return items.length > 10 ? `${shown} and ${items.length - 10} more` : shown;
}

export interface WorkloadServiceOptions {
  /** Time for ages, rates and ETAs; the system clock by default. */
  clock?: RunnerClock;
  /** An already open store (tests, or a server that shares one); opened from the config otherwise. */
  store?: WorkloadStore;
}

/** A job of the workload, with the lane it runs on (every job is a Batch API job today). */
export interface WorkloadJob extends JobRow {
  lane: Lane;
}

/** Everything known about one record: where it stands, every job it went in, every failure, its output. */
export interface RecordDetail {
  record: StoredRecord;
  attempts: RecordAttempt[];
  failures: FailureRow[];
  /** Its inference log: every attempt and transition, oldest first. */
  events: StoredEvent[];
  output: OutputDocument | null;
}

/**
 * One workload as the user sees it: the single object the CLI commands call (and the HTTP API and
 * dashboard will), so each command stays a thin layer of flags and printing over it. It reads the
 * state store and the output files; it never talks to Google.
 */
export class WorkloadService {
  private constructor(
    readonly config: LoadedConfig,
    private readonly store: WorkloadStore,
    private readonly outputs: OutputSink,
    private readonly clock: RunnerClock,
  ) {}

  /**
   * Opens the workload's state store (created empty when the workload never ran). Takes a loaded
   * config (`loadConfig`); anything else, a path included, is ConfigNotLoadedError: `load` takes a path.
   */
  static open(config: LoadedConfig, options: WorkloadServiceOptions = {}): WorkloadService {
    assertLoaded(config);
    const clock = options.clock ?? systemClock;
    const store = options.store ?? openWorkloadStore(config, clock);
    return new WorkloadService(config, store, workloadOutputs(config, store), clock);
  }

  /**
   * Opens the workload to look at it, creating nothing: a workload that has never run (no state
   * store yet) is served over an empty store in memory, so its figures and listings keep their
   * shape, and `neverRun` says so. For read-only callers (the CLI's status, log, runs…): opening
   * the store would create it, and a look must leave no trace.
   */
  static openForReading(
    config: LoadedConfig,
    options: Omit<WorkloadServiceOptions, 'store'> = {},
  ): { service: WorkloadService; neverRun: boolean } {
    assertLoaded(config);
    const { store, neverRun } = workloadStoreForReading(config, options.clock ?? systemClock);
    return { service: WorkloadService.open(config, { ...options, store }), neverRun };
  }

  /** Loads a config file or definition (as `loadConfig`, `runWorkload` and `openWorkloadSession` do), then opens it. */
  static async load(
    configOrPath: WorkloadConfigInput,
    options: WorkloadServiceOptions = {},
  ): Promise<WorkloadService> {
    return WorkloadService.open(await loadedConfigOf(configOrPath), options);
  }

  /**
   * The workload at a glance: records, chains, active jobs, tokens and cost, throughput and ETA.
   * With `stale`, also how many outputs are stale: a pass over every output, so it is asked for.
   */
  async status(options: { stale?: boolean } = {}): Promise<WorkloadStatus> {
    const now = this.clock.now();
    const priceList = configuredPriceList(this.config);
    const longAbove = modelPrices(priceList, this.config.model.name)?.batch.longContext?.threshold ?? null;
    const [jobs, firstRun] = await Promise.all([this.store.listJobs(), this.store.firstRunStartedAt()]);
    // The rate is measured from where the history begins: the first run, or the first job (a store
    // from before runs were kept). From the first job alone, a Flex or realtime workload, which makes
    // none, had no rate and no ETA however many records it had completed.
    const historyStart = Math.min(
      ...[jobs[0]?.createdAt, firstRun ?? undefined]
        .map((at) => (at ? Date.parse(at) : Number.NaN))
        .filter(Number.isFinite),
      now,
    );
    const windowStart = Math.max(now - THROUGHPUT_WINDOW_MS, historyStart);
    const [
      counts,
      chains,
      { completedSince: completedInWindow, ...usage },
      longestChain,
      failureCauses,
      attempts,
    ] = await Promise.all([
      this.store.counts(),
      this.store.chainCounts(),
      this.store.completedUsage(longAbove, new Date(windowStart).toISOString()),
      this.store.longestRunnableChain(),
      this.store.failureCauses(),
      this.store.attemptGroups(),
    ]);
    const status = summarizeStatus(
      {
        workload: this.config.name,
        configPath: this.config.configPath,
        model: this.config.model.name,
        mode: this.config.execution.mode,
        counts,
        chains,
        jobs,
        usage,
        completedInWindow,
        windowStart,
        longestChain,
        priceList,
        failureCauses,
        attempts,
        stallPolicy: {
          factor: this.config.execution.stall_factor,
          minAgeMs: this.config.execution.stall_min_age,
          action: this.config.execution.stall_action,
        },
      },
      now,
    );
    if (options.stale) {
      const stale = await this.staleOutputs();
      status.staleOutputs = stale.stale;
    }
    return status;
  }

  /** Failures in the order they were logged: every attempt, one record's, or only dead letters. */
  async failures(filter: FailureFilter = {}): Promise<FailureRow[]> {
    return this.store.listFailures(filter);
  }

  /** How many failures were logged per cause, most frequent first. */
  async failureCauses(): Promise<Array<{ cause: string; count: number }>> {
    return this.store.failureCauses();
  }

  /** Writes the filtered failures to `out` as CSV or JSON Lines; returns how many. */
  async exportFailures(
    format: FailureExportFormat,
    out: NodeJS.WritableStream,
    filter: FailureFilter = {},
  ): Promise<number> {
    return writeFailures(await this.store.listFailures(filter), format, out);
  }

  /**
   * Dead letters (all, or those of `ids`) back to the queue with fresh retries; returns how many.
   * Given ids are all checked first: one unknown or not dead-lettered id requeues none of them.
   */
  async requeue(ids?: readonly string[]): Promise<number> {
    return this.exclusively('requeue', async () => {
      if (!ids || ids.length === 0) return this.store.requeueDead();
      const unknown: string[] = [];
      const notDead: { id: string; status: string }[] = [];
      for (const id of ids) {
        const record = await this.store.getRecord(id);
        if (!record) unknown.push(id);
        else if (record.status !== 'dead') notDead.push({ id, status: record.status });
      }
      if (unknown.length > 0 || notDead.length > 0) throw new RequeueIdsError(unknown, notDead);
      return this.store.requeueDead([...ids]);
    });
  }

  /** Deletes the failure log and resets every attempt count; returns how many failures were deleted. */
  async clearFailures(): Promise<number> {
    return this.exclusively('clear-failures', () => this.store.clearFailures());
  }

  /** Forgets all state (records, jobs, failures, runs, media cache); output files stay and count as done. */
  async reset(): Promise<void> {
    return this.exclusively('reset', () => this.store.reset());
  }

  /** Records in id order, filtered and paged. */
  async records(filter: RecordFilter = {}): Promise<StoredRecord[]> {
    return this.store.listRecords(filter);
  }

  /** One record with its history and output, or null when the store does not know the id. */
  async record(id: string): Promise<RecordDetail | null> {
    const record = await this.store.getRecord(id);
    if (!record) return null;
    const [attempts, failures, events, document] = await Promise.all([
      this.store.recordAttempts(id),
      this.store.listFailures({ recordId: id }),
      this.store.listEvents({ recordId: id }).then((events) => readEventOutputs(events, this.outputs)),
      this.outputs.read(id, record.output ?? null),
    ]);
    // Redacted as the log's copies of it are (the output file itself is the user's, kept as written):
    // `show` printed a key the model had echoed in the current output, [redacted] in its history.
    const output = document ? { ...document, output: redactValue(document.output) } : null;
    return { record, attempts, failures, events, output };
  }

  /** The workload's jobs in creation order, optionally only those in `states`. */
  async jobs(states?: readonly JobState[]): Promise<WorkloadJob[]> {
    return (await this.store.listJobs(states)).map((job) => ({ ...job, lane: 'batch' }));
  }

  /** Every committed output document, streamed from the configured sink. */
  outputDocuments(): AsyncIterable<OutputDocument> {
    return this.outputs.documents();
  }

  /** Streams every output document to `out` as JSON Lines or CSV; returns how many. */
  async exportOutputs(format: ExportFormat, out: NodeJS.WritableStream): Promise<number> {
    return exportOutputs(this.outputs, format, out);
  }

  /**
   * The inference log, oldest first: every attempt and job or record transition matching `filter`.
   * Outputs the log refers to in the JSONL sink are read back from their lines unless `outputs` is
   * false (a listing that does not show them).
   */
  async events(filter: EventFilter = {}, { outputs = true } = {}): Promise<StoredEvent[]> {
    const events = await this.store.listEvents(filter);
    return outputs ? readEventOutputs(events, this.outputs) : events;
  }

  /**
   * A rendered prompt or generation config by the hash an event refers to it by; give the event's
   * record too, or a record's own prompt is found by a scan of the stored texts.
   */
  async text(hash: string, recordId?: string | null): Promise<StoredText | null> {
    return this.store.getText(hash, recordId);
  }

  /**
   * How many outputs are stale (made by another prompt version or template, model, or from input
   * that changed since) and why. Reads every output's provenance and stats the media files (hashing
   * only those that changed), so it costs a pass over the outputs.
   */
  async staleOutputs(): Promise<StaleOutputCounts> {
    const prompt = await loadPrompt(
      this.config.prompt.dir,
      this.config.prompt.name,
      this.config.prompt.version,
    );
    return countStaleOutputs({
      store: this.store,
      outputs: this.outputs,
      // Reads the digests the runs remembered; learns none (this is a read-only look).
      hasher: new RecordContentHasher(
        {
          getFileDigest: (path) => this.store.getFileDigest(path),
          saveFileDigests: async () => undefined,
        },
        mediaRootOf(this.config),
      ),
      current: currentProvenance(this.config, prompt.templateHash),
    });
  }

  /** The run history, newest first; a run without totals (still going, or killed) with its `usage` so far. */
  async runs(limit = 100): Promise<RunRow[]> {
    const rows = await this.store.listRuns(limit);
    return Promise.all(
      rows.map(async (run) => (run.totals ? run : { ...run, usage: await this.store.runUsage(run.id) })),
    );
  }

  /** The Markdown report of a run (the latest when omitted); null when there is no such run. */
  async report(runId?: number): Promise<string | null> {
    const report = await gatherRunReport(this.store, this.config.name, runId);
    return report ? renderRunReport(report) : null;
  }

  /** Deletes inference-log events recorded before `before`, the prompts no one refers to any more, and the report files of runs started before it. */
  async prune(before: Date): Promise<{ events: number; texts: number; reports: number }> {
    return this.exclusively('prune', async () => {
      const pruned = await this.store.pruneEvents(before.toISOString());
      // The Markdown reports of runs that started before the cut-off go with their events.
      let reports = 0;
      for (const run of await this.store.listRuns(Number.MAX_SAFE_INTEGER)) {
        if (Date.parse(run.startedAt) >= before.getTime()) continue;
        const path = join(this.config.data_dir, 'reports', `run-${run.id}.md`);
        if (existsSync(path)) {
          await rm(path, { force: true });
          reports++;
        }
      }
      return { ...pruned, reports };
    });
  }

  /**
   * Opens a file for an export (`export -o`, `failures --export -o`, `report -o`): refused when it is
   * one of the workload's own files or folders, or cannot be written (ExportTargetError, exit 2).
   */
  openExportFile(path: string): Promise<WriteStream> {
    return openExportFile(this.config, path);
  }

  /** Writes one CSV row per chain (its outputs merged in page order) to `out`; returns how many chains. */
  async exportChains(out: NodeJS.WritableStream): Promise<number> {
    const source = this.config.source;
    const schema = this.config.model.response_schema as { properties?: Record<string, unknown> } | undefined;
    const columns = {
      levels: source.type === 'directory' ? (source.levels ?? []) : [],
      fields: Object.keys(schema?.properties ?? {}),
    };
    return writeChainCsv(this.chains(), this.outputs, columns, out);
  }

  /** Writes every record's bare output as `<folder>/<id>.json`; returns how many. */
  async exportOutputFiles(folder: string): Promise<number> {
    const target = resolve(folder);
    await refuseOwnFolder(this.config, folder);
    await prepareExportFolder(folder);
    return exportOutputFiles(this.outputs, target);
  }

  /**
   * Writes the assembled document of every chain with a done record (`outputs.assemble`'s format,
   * field and separator; markdown by default) into `folder`, or the configured assembly folder;
   * returns how many documents are now up to date there.
   */
  async exportAssembled(folder?: string): Promise<number> {
    const settings = this.config.assemble;
    const target = resolve(folder ?? settings?.path ?? join(dirname(this.config.configPath), 'assembled'));
    await refuseOwnFolder(this.config, folder ?? target, 'the assembly folder');
    await prepareExportFolder(target);
    const assembler = new ChainAssembler(
      {
        format: settings?.format ?? 'markdown',
        path: target,
        separator: settings?.separator ?? '\n\n',
        ...(settings?.field !== undefined ? { field: settings.field } : {}),
      },
      this.store,
      this.outputs,
      (error) => {
        throw error;
      },
    );
    await assembler.rebuildAll();
    return assembler.stats.written + assembler.stats.unchanged;
  }

  /** The workload's chains, each with its records in position order, read from the store a page at a time. */
  chains(pageSize = 1000): AsyncIterable<ChainRecords> {
    return storedChains(this.store, pageSize);
  }

  /**
   * Plans a run over `selection`: what it would send, make again, leave alone, and what waits on a
   * record outside it. Brings the store in line with the source first (under the lease, so it is
   * refused while a run is active); sends nothing and changes no record's state.
   */
  async planSelection(selection: RecordSelection): Promise<SelectionPlan> {
    return this.exclusively('plan', () =>
      planRunSelection({ store: this.store, outputs: this.outputs, config: this.config }, selection),
    );
  }

  /**
   * What the workload (or the records `include` keeps) will cost and take on each lane, with the
   * latencies earlier runs of this workload measured on every lane (from the inference log, as a run
   * seeds its own planning) and its finished outputs as evidence.
   */
  async estimate(
    options: Omit<EstimateOptions, 'batchTurnarounds' | 'latencies' | 'outputs'> = {},
  ): Promise<WorkloadEstimate> {
    return estimateWorkload(this.config, {
      ...options,
      latencies: await latencyHistory(this.store),
      outputs: { documents: () => this.outputDocuments() },
    });
  }

  /** Closes the outputs and the state store. */
  async close(): Promise<void> {
    await this.outputs.close();
    await this.store.close();
  }

  /**
   * Runs a write to the state store under the store's lease, so a maintenance command can never
   * change records under a running `wavebatch run`: while another process holds the lease it is
   * refused with RunLockedError (RUN_LOCKED) naming the holder, and nothing changes.
   */
  private async exclusively<T>(purpose: string, work: () => Promise<T>): Promise<T> {
    const lease = await takeLease(this.store, { clock: this.clock, purpose });
    try {
      return await work();
    } finally {
      await lease.release();
    }
  }
}

/** A JavaScript caller is not stopped by the type: a path failed later with a bare TypeError. */
function assertLoaded(config: LoadedConfig): void {
  if (typeof config !== 'object' || config === null || typeof config.configPath !== 'string')
    throw new ConfigNotLoadedError(config);
}
