import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  configDigest,
  loadedConfigOf,
  type LoadedConfig,
  type WorkloadConfigInput,
} from '../config/index.js';
import { createGeminiClient, PLACEHOLDER_API_KEY, type GeminiClient } from '../gemini/index.js';
import { MediaUploader } from '../media/index.js';
import { openOutputSink, type OutputSink } from '../outputs/index.js';
import { loadPrompt } from '../prompts/index.js';
import { createValidator, jsonSchemaForModel, type OutputValidator } from '../results/index.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { WorkloadStore } from '../store/store.js';
import { mediaRootOf, openSource, sourceFingerprint } from '../workload/index.js';
import { configuredPriceList, NoBatchQuotaError, tierCappedBatchCaps } from '../pricing/index.js';
import type { CurrentProvenance } from '../outputs/staleness.js';
import { RecordContentHasher } from '../workload/content-hash.js';
import { AttemptEventFactory } from '../telemetry/attempt-event.js';
import { readEventOutputs } from '../outputs/event-outputs.js';
import { BraintrustSink, braintrustSettings } from '../telemetry/braintrust.js';
import { OpenTelemetrySink } from '../telemetry/opentelemetry.js';
import type { OpenTelemetryDelivery } from '../telemetry/otel-delivery.js';
import { RunTelemetry, type TelemetrySink } from '../telemetry/run-telemetry.js';
import { jsonDigest, TextArchive } from '../telemetry/text-archive.js';
import { BatchRunner } from './batch-runner.js';
import { systemClock, type RunnerClock } from '../clock.js';
import type { RunnerEventListener } from './events.js';
import { RecordRequestBuilder } from './record-request.js';
import type { RunnerSettings } from './settings.js';
import { TokenCalibration } from './token-calibration.js';
import { describeError, WavebatchError } from '../errors.js';
import { QUICK_RETRY, type RetryPolicy } from '../retry.js';
import { takeLease, type HeldLease } from '../store/lease.js';
import { jobNamePrefix } from '../planner/job-name.js';
import { ConnectionWatch, watchedGenerate } from './connection-watch.js';
import { assemblyListener } from './assembly-listener.js';
import { RemoteApi } from './remote-api.js';
import { LaneLimiters } from '../lanes/sync/lane-limiters.js';
import { SyncExecutor } from '../lanes/sync/sync-executor.js';
import type { SyncLane } from '../lanes/lane.js';
import { latencyFromHistory } from './latency-history.js';
import { checkFolderMakeable } from '../make-folder.js';

/** Where the Gemini API is when no base URL is configured (for messages only: the SDK knows it). */
const GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com';

/** The remote job list is checked for unwatched jobs of this store this often (and at start). */
export const REMOTE_SCAN_INTERVAL_MS = 10 * 60_000;

/** Raised when a run needs the API and no key is configured. */
export class MissingApiKeyError extends WavebatchError {
  readonly code = 'API_KEY_MISSING';
  constructor() {
    super('No API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or point api.base_url at the emulator.');
  }
}

export interface WorkloadSessionOptions {
  clock?: RunnerClock;
  onEvent?: RunnerEventListener;
  /** Overrides the configured API client (tests use this to inject an emulator-backed one). */
  gemini?: GeminiClient;
  /** Re-upload media whose remote copy expires within this; default 24 h. Tests shorten it. */
  mediaExpiryMarginMs?: number;
  /** How one remote call is retried; default QUICK_RETRY. Tests on the wall clock shorten it. */
  retryPolicy?: RetryPolicy;
  /** How often the remote job list is checked for unwatched jobs; default 10 minutes. */
  remoteScanIntervalMs?: number;
  /** Where the runner's events are exported besides the inference log, OpenTelemetry and Braintrust. */
  sinks?: TelemetrySink[];
  /**
   * What the registered OpenTelemetry SDK says about delivery (the CLI's SDK set-up reports it): with
   * it the attempts are exported from the inference log after a watermark in the store, so a killed
   * run's attempts are exported by the next run; without it, as the runner reports them.
   */
  openTelemetry?: OpenTelemetryDelivery;
  /** Where BRAINTRUST_* settings are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** How a synchronous request is retried (shed Flex, 5xx, timeouts); default SYNC_RETRY. */
  syncRetryPolicy?: RetryPolicy;
  /**
   * How long a synchronous call waits for its answer, per lane; default DEFAULT_REQUEST_TIMEOUT_MS.
   * Tests on a fast emulated clock lengthen it: there a busy machine's pause of tens of real
   * milliseconds is emulated minutes, enough to give up on an answer already on its way.
   */
  syncRequestTimeoutMs?: Partial<Record<SyncLane, number>>;
  /** `stale`: queue again the done records whose outputs are stale (also `execution.redo_stale`). */
  redo?: 'stale';
}

/** A workload opened for work: the runner plus what must be closed after it. */
export interface WorkloadSession {
  runner: BatchRunner;
  store: WorkloadStore;
  outputs: OutputSink;
  settings: RunnerSettings;
  close(): Promise<void>;
  /** After close: true when an exporter (Braintrust) was left with something unsent, its requests maybe still pending. */
  exportsLate(): boolean;
}

/**
 * Opens the state store of a workload without taking its lease (read-only commands, or take it
 * yourself). The store stamps what it writes (a job's creation, a record's completion) by `clock`:
 * a stamp by another clock than the run's made every new batch job look hours old to the stall
 * check on the emulator's fast clock, and cancelled it at once.
 */
export function openWorkloadStore(config: LoadedConfig, clock: RunnerClock = systemClock): WorkloadStore {
  return new SqliteStore({ path: workloadStorePath(config), now: () => new Date(clock.now()) });
}

/**
 * The workload's state store to look at, creating nothing: an empty store in memory when the
 * workload has never run (no state store file yet), which `neverRun` says.
 */
export function workloadStoreForReading(
  config: LoadedConfig,
  clock: RunnerClock = systemClock,
): { store: WorkloadStore; neverRun: boolean } {
  if (existsSync(workloadStorePath(config)))
    return { store: openWorkloadStore(config, clock), neverRun: false };
  return { store: new SqliteStore({ path: ':memory:', now: () => new Date(clock.now()) }), neverRun: true };
}

/** The workload's state store file (`<data_dir>/state.db`); absent until the workload first runs. */
export function workloadStorePath(config: LoadedConfig): string {
  return join(config.data_dir, 'state.db');
}

/**
 * The workload's output sink (files or JSONL shards), over the store's output index; `warn` is told
 * of a JSONL manifest that cannot be written (without it, that throws).
 */
export function workloadOutputs(
  config: LoadedConfig,
  store: WorkloadStore,
  warn?: (message: string) => void,
): OutputSink {
  const sink = config.output_sink;
  return openOutputSink(
    { kind: sink.kind, root: config.outputs, shardBytes: sink.shard_bytes, ...(warn ? { warn } : {}) },
    store,
  );
}

/**
 * The runner's numbers, from the config; the batch caps lowered to the usage tier's limits (as
 * `estimate` projects them): a budget above the tier's enqueued-token limit drew 429s on create.
 */
export function runnerSettings(config: LoadedConfig): RunnerSettings {
  const execution = config.execution;
  const batchCaps = tierCappedBatchCaps(execution, config.model.name, configuredPriceList(config));
  return {
    workload: config.name,
    model: config.model.name,
    dataDir: config.data_dir,
    maxRetries: execution.max_retries,
    maxConcurrentJobs: batchCaps.maxConcurrentJobs,
    maxRequestsPerJob: execution.max_requests_per_job,
    recordsPerRequest: execution.records_per_request,
    maxJobBytes: execution.max_job_bytes,
    inlineMaxBytes: execution.inline_max_bytes,
    enqueuedTokenBudget: batchCaps.enqueuedTokenBudget,
    pollIntervalMs: execution.poll_interval,
    prompt: { name: config.prompt.name, version: config.prompt.version },
    baseUrl: config.api.base_url ?? GOOGLE_BASE_URL,
    retryPolicy: QUICK_RETRY,
    giveUpAfterMs: execution.give_up_after,
    stall: {
      factor: execution.stall_factor,
      minAgeMs: execution.stall_min_age,
      action: execution.stall_action,
    },
    remoteScanIntervalMs: REMOTE_SCAN_INTERVAL_MS,
    execution: {
      mode: execution.mode,
      syncConcurrency: execution.sync_concurrency,
      deadline: execution.deadline ?? null,
      maxCostUsd: execution.max_cost ?? null,
      stopGraceMs: execution.stop_grace,
    },
  };
}

/**
 * Wires a config (a config file path or a definition, loaded as `loadConfig` loads them, or a loaded
 * config) into a ready runner: store, outputs, prompt, validator, API client, source.
 * Takes the store's lease (RunLockedError if another process holds it), released by `close()`.
 */
export async function openWorkloadSession(
  configOrPath: WorkloadConfigInput,
  options: WorkloadSessionOptions = {},
): Promise<WorkloadSession> {
  const config = await loadedConfigOf(configOrPath);
  const settings = {
    ...runnerSettings(config),
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    ...(options.remoteScanIntervalMs !== undefined
      ? { remoteScanIntervalMs: options.remoteScanIntervalMs }
      : {}),
  };
  if (settings.execution.mode === 'batch' && settings.enqueuedTokenBudget <= 0)
    throw new NoBatchQuotaError(config.model.name);
  await checkOutputFolders(config);
  const gemini = options.gemini ?? defaultClient(config);
  const prompt = await loadPrompt(config.prompt.dir, config.prompt.name, config.prompt.version);
  settings.prompt = { ...settings.prompt, templateHash: prompt.templateHash };
  const validator = createValidator(config.model.response_schema);
  const clock = options.clock ?? systemClock;
  const store = openWorkloadStore(config, clock);
  let lease: HeldLease;
  try {
    lease = await takeLease(store, { clock, purpose: 'run' });
  } catch (error) {
    await store.close();
    throw error;
  }
  lease.keepAlive();
  try {
    return await wireSession({ config, options, settings, gemini, prompt, validator, clock, store, lease });
  } catch (error) {
    // Given up here, or its heartbeat keeps the process alive holding the lease: a run refused by a
    // check made while wiring (PROMPT_NOT_GROUPED) printed its error, never exited and kept every
    // other command of the workload out with RUN_LOCKED.
    await lease.release();
    await store.close();
    throw error;
  }
}

/**
 * Fails when a folder the run writes its outputs into (the sink's, the assembled documents') could
 * not be made, before the store is opened or anything is sent: the folders are made at the first
 * write, once a batch job has been paid for. (`data_dir` is made when the store opens, at start.)
 */
async function checkOutputFolders(config: LoadedConfig): Promise<void> {
  await checkFolderMakeable(config.outputs);
  if (config.assemble) await checkFolderMakeable(config.assemble.path);
}

/** What a session is wired from: the config's parts read before the store's lease was taken. */
interface SessionParts {
  config: LoadedConfig;
  options: WorkloadSessionOptions;
  settings: RunnerSettings;
  gemini: GeminiClient;
  prompt: Awaited<ReturnType<typeof loadPrompt>>;
  validator: OutputValidator;
  clock: RunnerClock;
  store: WorkloadStore;
  lease: HeldLease;
}

/** The runner and everything it runs with, over a store whose lease is held. */
async function wireSession(parts: SessionParts): Promise<WorkloadSession> {
  const { config, options, settings, gemini, prompt, validator, clock, store, lease } = parts;
  const schema = config.model.response_schema;
  const warn = (message: string) => options.onEvent?.({ type: 'warning', message });
  const outputs = workloadOutputs(config, store, warn);
  const archive = new TextArchive(store);
  const responseJsonSchema = schema === undefined ? undefined : jsonSchemaForModel(schema);
  // What every request is generated with, stored once; each attempt's event refers to it by hash.
  const generation = { generationConfig: config.model.generation_config, responseJsonSchema };
  const generationConfigHash = jsonDigest(generation);
  await archive.remember({
    hash: generationConfigHash,
    kind: 'generation_config',
    body: JSON.stringify(generation),
  });
  const storeId = await store.storeId();
  const braintrust = braintrustSettings(options.env ?? process.env);
  if ('off' in braintrust && braintrust.off) warn(braintrust.off);
  const openTelemetry = new OpenTelemetrySink({
    workload: config.name,
    now: () => clock.now(),
    storeId,
    ...(options.openTelemetry ? { logged: { store, delivery: options.openTelemetry, warn } } : {}),
  });
  const braintrustSink =
    'settings' in braintrust
      ? new BraintrustSink({
          settings: braintrust.settings,
          store,
          storeId,
          readOutputs: (events) => readEventOutputs(events, outputs),
          now: () => clock.now(),
          workload: config.name,
          warn,
        })
      : null;
  // The watermarks are read (a workload's first started) before the run can log an attempt.
  await Promise.all([openTelemetry.ready(), braintrustSink?.ready()]);
  const telemetry = new RunTelemetry({
    store,
    archive,
    workload: config.name,
    dataDir: settings.dataDir,
    now: () => clock.now(),
    warn,
    // Spans and metrics go through @opentelemetry/api: nothing leaves the process unless an SDK is registered.
    sinks: [openTelemetry, ...(braintrustSink ? [braintrustSink] : []), ...(options.sinks ?? [])],
  });
  const emit = options.onEvent ?? (() => undefined);
  // One watch for every call, batch and synchronous: the run stops once none has been answered for give_up_after.
  const watch = new ConnectionWatch(clock, settings.baseUrl, settings.giveUpAfterMs);
  const api = new RemoteApi(gemini, {
    clock,
    policy: settings.retryPolicy,
    watch,
    onRetry: ({ operation, attempt, delayMs, error }) =>
      emit({
        type: 'retry',
        operation,
        attempt,
        delayMs,
        message: describeError(error),
      }),
  });
  const calibration = new TokenCalibration();
  const uploader = new MediaUploader({
    api,
    cache: store,
    now: () => clock.now(),
    sleep: (ms) => clock.sleep(ms),
    ...(options.mediaExpiryMarginMs !== undefined ? { expiryMarginMs: options.mediaExpiryMarginMs } : {}),
  });
  const assembly = config.assemble ? assemblyListener(config.assemble, store, outputs, warn) : undefined;
  const mediaRoot = mediaRootOf(config);
  const hasher = new RecordContentHasher(store, mediaRoot);
  const requests = new RecordRequestBuilder({
    ...(mediaRoot !== undefined ? { mediaRoot } : {}),
    prompt,
    outputs,
    contentHasher: hasher,
    extractContext: contextExtractor(config),
    generationConfig: config.model.generation_config,
    responseJsonSchema,
    tokenScale: () => calibration.scale(),
    recordsPerRequest: config.execution.records_per_request,
    archive,
    uploads: {
      minBytes: config.execution.media_upload_bytes,
      fileFor: (media, file) => uploader.fileFor(media, file),
      forgetFile: (fileUri) => uploader.forget(fileUri),
    },
  });
  const prices = configuredPriceList(config);
  // One limiter per model and synchronous lane, sized from the price list's limits (config `limits:`).
  const limiters = new LaneLimiters(prices);
  const executor = new SyncExecutor({
    api: watchedGenerate(gemini, watch),
    clock,
    limiters,
    concurrency: settings.execution.syncConcurrency,
    ...(options.syncRetryPolicy ? { retry: options.syncRetryPolicy } : {}),
    ...(options.syncRequestTimeoutMs ? { requestTimeoutMs: options.syncRequestTimeoutMs } : {}),
    onRetry: ({ id, attempt, delayMs, error }) =>
      emit({
        type: 'retry',
        operation: `generateContent ${id}`,
        attempt,
        delayMs,
        message: describeError(error),
      }),
  });
  const runner = new BatchRunner({
    sync: { executor, limiters },
    prices,
    // auto plans with this workload's own measured latencies from the start, not only the priors.
    latency: await latencyFromHistory(store),
    store,
    api,
    outputs,
    requests,
    validator,
    calibration,
    settings,
    clock,
    jobPrefix: jobNamePrefix(settings.workload, storeId),
    source: () => openSource(config),
    // File times are real time: compared with the system clock, whatever clock the run uses.
    sourceFingerprint: () => sourceFingerprint(config, systemClock.now()),
    lease,
    onEvent: (event) => {
      telemetry.handle(event);
      assembly?.handle(event);
      options.onEvent?.(event);
    },
    attempts: new AttemptEventFactory({
      priceList: prices,
      generationConfigHash,
      now: () => clock.now(),
    }),
    configHash: configDigest(config),
    ...(options.redo === 'stale' || config.execution.redo_stale
      ? {
          redoStale: {
            store,
            outputs,
            hasher,
            current: currentProvenance(config, prompt.templateHash),
          },
        }
      : {}),
  });
  let closing: Promise<void> | undefined;
  let late = false;
  return {
    runner,
    store,
    outputs,
    settings,
    // Idempotent: the CLI closes early to have the report written, and again on its way out.
    close: () => (closing ??= closeSession()),
    exportsLate: () => late,
  };

  async function closeSession(): Promise<void> {
    try {
      late = !(await telemetry.close());
      await assembly?.settled();
      await outputs.close();
    } finally {
      await lease.release();
      await store.close();
    }
  }
}

/** What outputs are made with under this config: compared with each output's provenance. */
export function currentProvenance(config: LoadedConfig, templateHash: string): CurrentProvenance {
  return {
    promptName: config.prompt.name,
    promptVersion: config.prompt.version,
    templateHash,
    model: config.model.name,
  };
}

/** The API client a workload config points at (its base_url, its key); refuses to go to Google without a key. */
export function defaultClient(config: LoadedConfig): GeminiClient {
  const baseUrl = config.api.base_url;
  const apiKey = config.apiKey ?? (baseUrl ? PLACEHOLDER_API_KEY : undefined);
  if (!apiKey) throw new MissingApiKeyError();
  return createGeminiClient(baseUrl ? { apiKey, baseUrl } : { apiKey });
}

/** The TS hook wins; otherwise `context.field` picks a dot path; otherwise the whole output. */
export function contextExtractor(config: LoadedConfig): (output: unknown) => unknown {
  if (config.hooks?.extractContext) return config.hooks.extractContext;
  const field = config.context?.field;
  if (!field) return (output) => output;
  const path = field.split('.');
  return (output) => {
    let value: unknown = output;
    for (const key of path) {
      if (value === null || typeof value !== 'object') return null;
      value = (value as Record<string, unknown>)[key];
    }
    return value ?? null;
  };
}
