import { MAX_TIMER_MS } from '../clock.js';
import { describeError } from '../errors.js';
import type { RunnerEvent } from '../runner/events.js';
import { redact, registerSecret } from '../secrets/redact.js';
import type { EventLog, StoredEvent } from '../store/event-log.js';
import type { ExportWatermarks } from '../store/export-watermarks.js';
import { LoggedAttemptExport } from './logged-attempt-export.js';
import type { ExportDelivery } from './export-delivery.js';
import type { TelemetrySink } from './run-telemetry.js';
import { SpanIds } from './span-ids.js';

/** The Braintrust app when BRAINTRUST_APP_URL does not say otherwise. */
export const BRAINTRUST_DEFAULT_APP_URL = 'https://www.braintrust.dev';
/** How long the log-in check and the final flush may each take. */
export const BRAINTRUST_TIMEOUT_MS = 2000;
/** The store's watermark of what Braintrust took (see LoggedAttemptExport). */
export const BRAINTRUST_WATERMARK = 'braintrust';
/** Any one request of the SDK gives up after this, so an unanswered upload never holds the process. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Where to log, from the environment. */
export interface BraintrustSettings {
  apiKey: string;
  projectName: string;
  appUrl: string;
}

/** The parts of the `braintrust` SDK used here (it is an optional dependency, imported on demand). */
export interface BraintrustSdk {
  /**
   * The SDK's connection state. Its background uploader takes `noExitFlush` and `onFlushError` from
   * here only: `initLogger` ignores them.
   */
  BraintrustState: new (options: {
    apiKey: string;
    appUrl: string;
    fetch: typeof fetch;
    noExitFlush: boolean;
    onFlushError: (error: unknown) => void;
  }) => object;
  initLogger(options: {
    projectName: string;
    apiKey: string;
    appUrl: string;
    asyncFlush: true;
    fetch: typeof fetch;
    state: object;
    setCurrent: false;
  }): BraintrustLogger;
}

interface BraintrustLogger {
  startSpan(args: {
    name: string;
    type: 'llm';
    spanId: string;
    /** No parent: a root span in a trace of the caller's choosing. */
    parentSpanIds: { parentSpanIds: []; rootSpanId: string };
    startTime?: number;
    event: Record<string, unknown> & { id: string };
  }): {
    log(event: Record<string, unknown>): void;
    end(args?: { endTime?: number }): number;
  };
  flush(): Promise<void>;
}

export interface BraintrustSinkOptions {
  settings: BraintrustSettings;
  /** The inference log delivered (its events and the rendered prompts they refer to) and its watermarks. */
  store: Pick<EventLog, 'attemptsAfter' | 'getText'> & ExportWatermarks;
  /** The store's id: each row's id is derived from it and the event's, so a row sent again replaces itself. */
  storeId: string;
  /** Reads back the outputs the log keeps by location (the JSONL sink's lines). */
  readOutputs?: (events: StoredEvent[]) => Promise<StoredEvent[]>;
  now: () => number;
  workload: string;
  /** Told once when logging is off or degraded. */
  warn: (message: string) => void;
  /** Loads the SDK; `import('braintrust')` by default. */
  loadSdk?: () => Promise<BraintrustSdk>;
  timeoutMs?: number;
}

/**
 * The Braintrust settings from BRAINTRUST_API_KEY and BRAINTRUST_PROJECT (BRAINTRUST_APP_URL points
 * at another deployment); null, with the reason, when logging stays off.
 */
export function braintrustSettings(
  env: NodeJS.ProcessEnv,
): { settings: BraintrustSettings } | { off: string | null } {
  const apiKey = env.BRAINTRUST_API_KEY?.trim();
  const projectName = env.BRAINTRUST_PROJECT?.trim();
  if (!apiKey && !projectName) return { off: null };
  if (!apiKey)
    return { off: 'Braintrust logging is off: BRAINTRUST_PROJECT is set but BRAINTRUST_API_KEY is not.' };
  registerSecret(apiKey);
  if (!projectName)
    return { off: 'Braintrust logging is off: set BRAINTRUST_PROJECT to the project to log into.' };
  return {
    settings: { apiKey, projectName, appUrl: env.BRAINTRUST_APP_URL?.trim() || BRAINTRUST_DEFAULT_APP_URL },
  };
}

/**
 * Logs each inference to Braintrust as an `llm` span: input (the rendered prompt), output (or the
 * error), metadata (record, chain, job, prompt version, attempt, outcome, event id) and metrics
 * (tokens, cost, latency). The inferences are read from the inference log after the store's
 * Braintrust watermark, which moves only once the SDK's flush sent them without an error (see
 * LoggedAttemptExport): what a killed run's SDK held is logged by the next run. Each row's id (and
 * span id) is derived from the store and the event, so a row sent twice replaces itself. Nothing
 * here waits on Braintrust: the SDK is loaded and the app's log-in checked in the background
 * (bounded), rows are sent by the SDK's background flusher, and when the app cannot be reached
 * logging waits for the next run, with one warning.
 */
export class BraintrustSink implements TelemetrySink, ExportDelivery {
  private readonly connected: Promise<BraintrustLogger | null>;
  private readonly logged: LoggedAttemptExport;
  private readonly ids: SpanIds;
  /** Set once the SDK is known to be missing or the app unreachable: nothing is exported by this run. */
  private off = false;
  /** Uploads the SDK reported failed (and dropped): a flush is delivered only when none came during it. */
  private failedUploads = 0;
  private warned = false;
  private readonly timeoutMs: number;

  constructor(private readonly options: BraintrustSinkOptions) {
    // Capped to what a timer holds: a longer timeout would overflow and fire after 1 ms.
    this.timeoutMs = Math.min(options.timeoutMs ?? BRAINTRUST_TIMEOUT_MS, MAX_TIMER_MS);
    this.ids = new SpanIds(`${options.workload}/${options.storeId}`);
    this.connected = this.connect().then((logger) => {
      this.off = logger === null;
      return logger;
    });
    this.logged = new LoggedAttemptExport({
      store: options.store,
      channels: [
        {
          watermark: BRAINTRUST_WATERMARK,
          delivery: this,
          handOver: (event) => this.log(event),
          undelivered: 'resend',
          ...(options.readOutputs ? { complete: options.readOutputs } : {}),
        },
      ],
      label: 'Braintrust logging',
      now: options.now,
      warn: (message) => this.warnOnce(message),
      finalTimeoutMs: this.timeoutMs,
    });
  }

  /** Resolves once the store's watermark is read (a first run's started): before the run logs an attempt. */
  async ready(): Promise<void> {
    await this.logged.ready();
  }

  handle(event: RunnerEvent): void {
    if (this.off) return;
    if (event.type === 'record-done' || event.type === 'record-failed') this.logged.attemptLogged();
    else this.logged.poll();
  }

  /** ExportDelivery: the flush resolves true when the SDK sent everything without reporting a failed upload. */
  begin(): () => Promise<boolean> {
    const failedBefore = this.failedUploads;
    return async () => {
      const logger = await this.connected;
      if (!logger) return false;
      try {
        await logger.flush();
      } catch {
        return false;
      }
      return this.failedUploads === failedBefore;
    };
  }

  /**
   * Sends what is logged and not yet delivered, waiting at most the timeout for the log-in and again
   * for the flush; false when something was left unsent (the next run on the workload sends it).
   */
  async close(): Promise<boolean> {
    const logger = await within(this.connected, this.timeoutMs, undefined);
    if (logger === undefined) {
      this.warnOnce(
        'Braintrust logging is degraded: the app did not answer in time; this run is logged there by the next run.',
      );
      await this.logged.close(0);
      return false;
    }
    if (logger === null) {
      await this.logged.close(0);
      return true;
    }
    return this.logged.close();
  }

  private async connect(): Promise<BraintrustLogger | null> {
    const { settings } = this.options;
    let sdk: BraintrustSdk;
    try {
      sdk = await (this.options.loadSdk ?? importBraintrust)();
    } catch {
      this.warnOnce(
        'Braintrust logging is off: the `braintrust` package is not installed (npm install braintrust@3.35.0).',
      );
      return null;
    }
    const reachable = await this.checkLogin();
    if (reachable !== true) {
      this.warnOnce(
        `Braintrust logging is degraded: ${settings.appUrl} could not be reached (${reachable}); this run is logged there by the next run.`,
      );
      return null;
    }
    const state = new sdk.BraintrustState({
      apiKey: settings.apiKey,
      appUrl: settings.appUrl,
      fetch: boundedFetch,
      // Flushed by close(), bounded; the SDK's own exit flush waits ~6 s on a dead network.
      noExitFlush: true,
      // The SDK's flush resolves even when an upload failed (its rows dropped): this is how it says so.
      onFlushError: (error) => {
        this.failedUploads++;
        this.warnOnce(`Braintrust logging is degraded: ${describeError(error)}`);
      },
    });
    return sdk.initLogger({
      projectName: settings.projectName,
      apiKey: settings.apiKey,
      appUrl: settings.appUrl,
      asyncFlush: true,
      fetch: boundedFetch,
      state,
      setCurrent: false,
    });
  }

  /** The SDK's first call (log in with the key), bounded: true, or why it failed. */
  private async checkLogin(): Promise<true | string> {
    const { appUrl, apiKey } = this.options.settings;
    try {
      const response = await fetch(new URL('/api/apikey/login', appUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel();
      return response.ok ? true : `HTTP ${response.status}`;
    } catch (error) {
      return describeError(error);
    }
  }

  /** Hands one logged inference to the SDK, as a span whose row id and span id are the event's. */
  private async log(event: StoredEvent): Promise<void> {
    const logger = await this.connected;
    if (!logger) return;
    const prompt = event.promptHash
      ? await this.options.store.getText(event.promptHash, event.recordId)
      : null;
    const id = this.ids.eventSpan(event.id);
    const span = logger.startSpan({
      name: `generate_content ${event.model ?? ''}`.trim(),
      type: 'llm',
      // The same row, span and trace every time the event is sent: Braintrust replaces a row by its id.
      spanId: id,
      parentSpanIds: { parentSpanIds: [], rootSpanId: this.ids.traceOfEvent(event.id) },
      ...(event.startedAt ? { startTime: Date.parse(event.startedAt) / 1000 } : {}),
      event: {
        id,
        input: prompt ? (JSON.parse(prompt.body) as unknown) : null,
        metadata: {
          event_id: event.id,
          workload: this.options.workload,
          run_id: event.runId,
          record_id: event.recordId,
          chain_id: event.chainId,
          position: event.position,
          lane: event.lane,
          job_id: event.jobId,
          job_name: event.jobName,
          model: event.model,
          prompt_name: event.promptName,
          prompt_version: event.promptVersion,
          prompt_hash: event.promptHash,
          context_digest: event.contextDigest,
          attempt: event.attempt,
          outcome: event.type,
          finish_reason: event.finishReason,
        },
      },
    });
    span.log({
      output: event.output ?? (event.raw ? event.raw : null),
      ...(event.cause ? { error: `${event.cause}: ${event.message ?? ''}` } : {}),
      metrics: {
        prompt_tokens: event.inputTokens,
        completion_tokens: event.outputTokens,
        completion_reasoning_tokens: event.thoughtsTokens,
        tokens: event.inputTokens + event.outputTokens,
        ...(event.costUsd !== null ? { cost_usd: event.costUsd } : {}),
        ...(event.latencyMs !== null ? { latency_s: event.latencyMs / 1000 } : {}),
      },
    });
    span.end(event.finishedAt ? { endTime: Date.parse(event.finishedAt) / 1000 } : undefined);
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.options.warn(redact(message));
  }
}

async function importBraintrust(): Promise<BraintrustSdk> {
  // A variable specifier: the package is optional, so neither the compiler nor a bundler may require it.
  const name = 'braintrust';
  return (await import(name)) as BraintrustSdk;
}

/** fetch with a deadline per request. */
const boundedFetch: typeof fetch = (input, init) =>
  fetch(input, {
    ...init,
    signal: init?.signal
      ? AbortSignal.any([init.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
      : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });

/** `work`'s value, or `fallback` once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
