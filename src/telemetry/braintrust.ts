import { MAX_TIMER_MS } from '../clock.js';
import type { RunnerEvent } from '../runner/events.js';
import { redact, registerSecret } from '../secrets/redact.js';
import type { EventLog, InferenceEvent } from '../store/event-log.js';
import type { TelemetrySink } from './run-telemetry.js';

/** The Braintrust app when BRAINTRUST_APP_URL does not say otherwise. */
export const BRAINTRUST_DEFAULT_APP_URL = 'https://www.braintrust.dev';
/** How long the log-in check and the final flush may each take. */
export const BRAINTRUST_TIMEOUT_MS = 2000;
/** Inferences held while the log-in check runs; past this they are dropped (and counted). */
const WAITING_LIMIT = 10_000;
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
  initLogger(options: {
    projectName: string;
    apiKey: string;
    appUrl: string;
    asyncFlush: true;
    noExitFlush: boolean;
    fetch: typeof fetch;
    onFlushError: (error: unknown) => void;
  }): BraintrustLogger;
}

interface BraintrustLogger {
  startSpan(args: { name: string; type: 'llm'; startTime?: number; event?: Record<string, unknown> }): {
    log(event: Record<string, unknown>): void;
    end(args?: { endTime?: number }): number;
  };
  flush(): Promise<void>;
}

export interface BraintrustSinkOptions {
  settings: BraintrustSettings;
  /** Reads the rendered prompt an event refers to. */
  texts: Pick<EventLog, 'getText'>;
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
 * error), metadata (record, chain, job, prompt version, attempt, outcome) and metrics (tokens, cost,
 * latency). Nothing here waits on Braintrust: the SDK is loaded and the app's log-in checked in the
 * background (bounded), spans are sent by the SDK's background flusher, and when the app cannot be
 * reached logging is switched off for the run with one warning.
 */
export class BraintrustSink implements TelemetrySink {
  private readonly ready: Promise<BraintrustLogger | null>;
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private dropped = 0;
  private warned = false;
  private readonly timeoutMs: number;

  constructor(private readonly options: BraintrustSinkOptions) {
    // Capped to what a timer holds: a longer timeout would overflow and fire after 1 ms.
    this.timeoutMs = Math.min(options.timeoutMs ?? BRAINTRUST_TIMEOUT_MS, MAX_TIMER_MS);
    this.ready = this.connect();
  }

  handle(event: RunnerEvent): void {
    if ((event.type !== 'record-done' && event.type !== 'record-failed') || !event.event) return;
    if (this.waiting >= WAITING_LIMIT) {
      this.dropped++;
      return;
    }
    const inference = event.event;
    this.waiting++;
    this.queue = this.queue
      .then(async () => {
        const logger = await this.ready;
        if (logger) await this.log(logger, inference);
      })
      .catch((error: unknown) => this.warnOnce(`Braintrust logging is degraded: ${describe(error)}`))
      .finally(() => this.waiting--);
  }

  /**
   * Sends what is queued, waiting at most the timeout for the log-in and again for the flush;
   * false when something was left unsent.
   */
  async close(): Promise<boolean> {
    const logger = await within(this.ready, this.timeoutMs, undefined);
    if (logger === undefined) {
      this.warnOnce(
        'Braintrust logging is degraded: the app did not answer in time; this run is not logged there.',
      );
      return false;
    }
    if (logger === null) return true;
    const queued = await within(
      this.queue.then(() => true),
      this.timeoutMs,
      false,
    );
    const flushed =
      queued &&
      (await within(
        logger.flush().then(() => true),
        this.timeoutMs,
        false,
      ));
    if (!flushed)
      this.warnOnce('Braintrust logging is degraded: the last inferences could not be sent in time.');
    if (this.dropped > 0)
      this.warnOnce(
        `Braintrust logging is degraded: ${this.dropped} inferences were dropped while it was unreachable.`,
      );
    return flushed;
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
        `Braintrust logging is degraded: ${settings.appUrl} could not be reached (${reachable}); this run is not logged there.`,
      );
      return null;
    }
    return sdk.initLogger({
      projectName: settings.projectName,
      apiKey: settings.apiKey,
      appUrl: settings.appUrl,
      asyncFlush: true,
      // Flushed by close(), bounded; the SDK's own exit flush waits ~6 s on a dead network.
      noExitFlush: true,
      fetch: boundedFetch,
      onFlushError: (error) => this.warnOnce(`Braintrust logging is degraded: ${describe(error)}`),
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
      return describe(error);
    }
  }

  private async log(logger: BraintrustLogger, event: InferenceEvent): Promise<void> {
    const prompt = event.promptHash
      ? await this.options.texts.getText(event.promptHash, event.recordId)
      : null;
    const span = logger.startSpan({
      name: `generate_content ${event.model ?? ''}`.trim(),
      type: 'llm',
      ...(event.startedAt ? { startTime: Date.parse(event.startedAt) / 1000 } : {}),
      event: {
        input: prompt ? (JSON.parse(prompt.body) as unknown) : null,
        metadata: {
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

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
