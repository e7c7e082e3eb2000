import {
  context,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { RunnerEvent } from '../runner/events.js';
import { redact } from '../secrets/redact.js';
import type { EventLog, InferenceEvent, StoredEvent } from '../store/event-log.js';
import type { ExportWatermarks } from '../store/export-watermarks.js';
import type { RunTraces } from '../store/run-traces.js';
import { LoggedAttemptExport, type AttemptChannel } from './logged-attempt-export.js';
import { LoggedRunExport } from './logged-run-export.js';
import type { OpenTelemetryDelivery } from './otel-delivery.js';
import type { TelemetrySink } from './run-telemetry.js';
import { SpanIds, withSpanIds } from './span-ids.js';
import { JOB_ENDS, StoredRunSpans } from './stored-run-spans.js';

/** The instrumentation scope every span and metric is reported under. */
export const INSTRUMENTATION_SCOPE = 'wavebatch';
/** `gen_ai.provider.name` (and the older `gen_ai.system`) of the Gemini Developer API. */
export const GEN_AI_PROVIDER = 'gcp.gemini';
/** `gen_ai.operation.name` of a generateContent request, batched or not. */
export const GEN_AI_OPERATION = 'generate_content';

export interface OpenTelemetrySinkOptions {
  workload: string;
  now: () => number;
  /** The store's id: span ids are derived from it and the run, job and event (see span-ids.ts). */
  storeId: string;
  /**
   * The SDK's delivery (the CLI's SDK reports it): attempts are then exported from the inference log
   * after the store's watermarks, so none is lost with a killed process (see LoggedAttemptExport).
   * Without it, attempts are exported as the runner reports them. With traces delivered and the
   * SDK's ids derived (DerivedIdGenerator), the run and job spans come from the store too.
   */
  logged?: {
    store: Pick<EventLog, 'attemptsAfter' | 'listRuns'> & ExportWatermarks & RunTraces;
    delivery: OpenTelemetryDelivery;
    warn: (message: string) => void;
  };
}

/** The store's watermarks of the two signals: each moves on its own delivery. */
export const TRACES_WATERMARK = 'opentelemetry.traces';
export const METRICS_WATERMARK = 'opentelemetry.metrics';
/** The store's watermark of the run spans (and their open jobs'): the last run whose spans were delivered. */
export const RUNS_WATERMARK = 'opentelemetry.runs';
/** The store's watermark of the ended jobs' spans, sent as they end: the last job end delivered. */
export const JOBS_WATERMARK = 'opentelemetry.jobs';

/**
 * Spans and metrics of a run through the OpenTelemetry API, following the GenAI semantic
 * conventions: a span per run, per batch job and per attempt (`generate_content <model>`, kind
 * CLIENT, with `gen_ai.*` usage, model and finish reasons), and the `gen_ai.client.token.usage` and
 * `gen_ai.client.operation.duration` histograms. Without an SDK registered (the CLI registers one
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set) every call is a no-op.
 */
export class OpenTelemetrySink implements TelemetrySink {
  private readonly tracer: Tracer;
  private readonly tokenUsage: Histogram;
  private readonly duration: Histogram;
  private readonly attempts: Counter;
  private readonly cost: Counter;
  private runSpan: Span | null = null;
  private runId: number | null = null;
  private readonly jobSpans = new Map<string, Span>();
  /** This run's span and its jobs' (by job id), ended or not: the parents of its attempts. */
  private runContext: SpanContext | null = null;
  private readonly jobContexts = new Map<string, SpanContext>();
  private readonly workload: string;
  private readonly now: () => number;
  private readonly ids: SpanIds;
  private readonly logged: LoggedAttemptExport | null;
  /** Exports the run and job spans from the store (null: they are started as the run goes, in this process). */
  private readonly runs: LoggedRunExport | null;

  constructor(options: OpenTelemetrySinkOptions) {
    this.workload = options.workload;
    this.now = options.now;
    this.ids = new SpanIds(`${options.workload}/${options.storeId}`);
    this.tracer = trace.getTracer(INSTRUMENTATION_SCOPE);
    const meter = metrics.getMeter(INSTRUMENTATION_SCOPE);
    this.tokenUsage = meter.createHistogram('gen_ai.client.token.usage', {
      unit: '{token}',
      description: 'Tokens used per request, by gen_ai.token.type (input, output)',
    });
    this.duration = meter.createHistogram('gen_ai.client.operation.duration', {
      unit: 's',
      description: 'Time from sending a request (or creating its batch job) to its answer',
    });
    this.attempts = meter.createCounter('wavebatch.attempts', {
      unit: '{attempt}',
      description: 'Settled attempts by outcome (done, retry, dead) and cause',
    });
    this.cost = meter.createCounter('wavebatch.cost', {
      unit: 'USD',
      description: 'Cost of the settled attempts, priced from their usage',
    });
    const logged = options.logged;
    const channels: AttemptChannel[] = [
      ...(logged?.delivery.traces
        ? [
            {
              watermark: TRACES_WATERMARK,
              delivery: logged.delivery.traces,
              handOver: (stored: StoredEvent) => this.attemptSpan(stored, stored.id),
              undelivered: 'resend' as const,
            },
          ]
        : []),
      ...(logged?.delivery.metrics
        ? [
            {
              watermark: METRICS_WATERMARK,
              delivery: logged.delivery.metrics,
              handOver: (stored: StoredEvent) => this.measure(stored),
              undelivered: 'keep' as const,
            },
          ]
        : []),
    ];
    this.logged =
      logged && channels.length > 0
        ? new LoggedAttemptExport({
            store: logged.store,
            channels,
            label: 'OpenTelemetry export',
            now: this.now,
            warn: logged.warn,
          })
        : null;
    const stored = new StoredRunSpans(this.tracer, this.ids, this.workload);
    this.runs =
      logged?.delivery.traces && this.derivesIds()
        ? new LoggedRunExport({
            store: logged.store,
            watermark: RUNS_WATERMARK,
            jobsWatermark: JOBS_WATERMARK,
            delivery: logged.delivery.traces,
            now: this.now,
            handOverRun: (run) => stored.run(run),
            handOverJob: (run, job) => stored.job(run, job),
            label: 'OpenTelemetry export',
            warn: logged.warn,
          })
        : null;
  }

  /**
   * Whether the registered SDK gives a span the ids `withSpanIds` asks for (its generator is
   * DerivedIdGenerator): only then can a span started later, by another process, be the parent its
   * attempts name. The probe span is never ended, so nothing is exported.
   */
  private derivesIds(): boolean {
    const asked = { traceId: this.ids.traceOfRun(0), spanId: this.ids.runSpan(0) };
    const probe = withSpanIds(asked, () => this.tracer.startSpan('wavebatch id probe', { root: true }));
    const { traceId, spanId } = probe.spanContext();
    return traceId === asked.traceId && spanId === asked.spanId;
  }

  /**
   * Resolves once the sink can take the run's events: with the SDK's delivery, once the store's
   * watermarks are read (a first run's started before it logs an attempt).
   */
  async ready(): Promise<void> {
    await Promise.all([this.logged?.ready(), this.runs?.ready()]);
  }

  handle(event: RunnerEvent): void {
    this.route(event);
    this.logged?.poll();
    this.runs?.poll();
  }

  private route(event: RunnerEvent): void {
    if (this.runs) {
      this.routeLogged(event);
      return;
    }
    switch (event.type) {
      case 'run-started': {
        const runId = event.runId;
        this.runId = runId;
        this.runSpan = withSpanIds(
          { traceId: this.ids.traceOfRun(runId), spanId: this.ids.runSpan(runId) },
          () =>
            this.tracer.startSpan(`wavebatch ${event.mode}`, {
              startTime: event.at,
              attributes: {
                'wavebatch.workload': this.workload,
                'wavebatch.run.id': runId,
                'wavebatch.run.mode': event.mode,
              },
            }),
        );
        this.runContext = this.runSpan.spanContext();
        this.jobContexts.clear();
        return;
      }
      case 'run-finished':
        this.finishRun(event);
        return;
      case 'job-submitted':
        this.jobSpan(event.jobId).setAttributes({
          'wavebatch.job.name': event.remoteName,
          'wavebatch.job.kind': event.kind,
          'wavebatch.job.requests': event.requests,
          'wavebatch.job.records': event.records,
          'gen_ai.request.model': event.model,
        });
        return;
      case 'job-adopted':
        this.jobSpan(event.jobId).setAttribute('wavebatch.job.name', event.remoteName);
        return;
      case 'job-state':
        this.jobSpan(event.jobId).addEvent(`state ${event.state}`, {}, this.now());
        if (JOB_ENDS.has(event.state)) {
          this.endJob(event.jobId, {
            code: SpanStatusCode.ERROR,
            message: redact(event.error ?? `the job ended ${event.state}`),
          });
        }
        return;
      case 'job-processed':
        this.jobSpan(event.jobId).setAttributes({
          'wavebatch.job.succeeded': event.succeeded,
          'wavebatch.job.failed': event.failed,
          'wavebatch.job.requests': event.requests,
        });
        this.endJob(event.jobId, { code: SpanStatusCode.OK });
        return;
      case 'record-done':
      case 'record-failed':
        if (this.logged) this.logged.attemptLogged();
        else if (event.event) this.exportAttempt(event.event);
        return;
      case 'sync':
      case 'quota-wait':
      case 'retry':
      case 'job-orphan':
      case 'job-stalled':
      case 'progress':
      case 'stale-redo':
      case 'lane-decision':
      case 'warning':
        return;
      default:
        event satisfies never;
    }
  }

  /**
   * With the run and job spans exported from the store: the attempts, each job's span as it ends and
   * each run's as it finishes.
   */
  private routeLogged(event: RunnerEvent): void {
    if (event.type === 'run-started') {
      this.runId = event.runId;
      this.runs?.runStarted(event.runId, event.at);
    } else if (event.type === 'run-finished') this.runs?.runFinished(event.runId);
    else if (event.type === 'job-processed' || (event.type === 'job-state' && JOB_ENDS.has(event.state)))
      this.runs?.jobEnded();
    else if (event.type === 'record-done' || event.type === 'record-failed') this.logged?.attemptLogged();
  }

  /**
   * Ends what is still open and, with the SDK's delivery, exports the attempts (and runs) logged and
   * not yet delivered (bounded in time; false when some are left for the next run). The exporting
   * SDK is flushed by whoever registered it.
   */
  async close(): Promise<boolean> {
    for (const jobId of [...this.jobSpans.keys()]) this.endJob(jobId, { code: SpanStatusCode.UNSET });
    this.runSpan?.end(this.now());
    this.runSpan = null;
    const closed = await Promise.all([this.logged?.close() ?? true, this.runs?.close() ?? true]);
    return closed.every(Boolean);
  }

  private exportAttempt(event: InferenceEvent): void {
    this.attemptSpan(event, null);
    this.measure(event);
  }

  /**
   * The attempt's span, in its run's trace under its job's span (or its run's), both by their derived
   * ids: an attempt exported by a later run (its own was killed) lands where it belongs. With its
   * logged event's id the span's own id is derived too, so exporting it twice sends the same span.
   */
  private attemptSpan(event: InferenceEvent, eventId: number | null): void {
    const model = event.model ?? 'unknown';
    const traceId =
      event.runId !== null
        ? this.ids.traceOfRun(event.runId)
        : eventId !== null
          ? this.ids.traceOfEvent(eventId)
          : undefined;
    const start = () =>
      this.tracer.startSpan(
        `${GEN_AI_OPERATION} ${model}`,
        { kind: SpanKind.CLIENT, ...(event.startedAt ? { startTime: Date.parse(event.startedAt) } : {}) },
        this.parentOf(event),
      );
    const span =
      eventId === null
        ? start()
        : withSpanIds({ ...(traceId ? { traceId } : {}), spanId: this.ids.eventSpan(eventId) }, start);
    // Without an SDK (or when sampled out) the span records nothing: its ~20 attributes are not built
    // (a million attempts each built them for nothing).
    if (span.isRecording()) {
      span.setAttributes({
        'gen_ai.operation.name': GEN_AI_OPERATION,
        'gen_ai.provider.name': GEN_AI_PROVIDER,
        'gen_ai.request.model': model,
        'gen_ai.system': GEN_AI_PROVIDER,
        'gen_ai.usage.input_tokens': event.inputTokens,
        'gen_ai.usage.output_tokens': event.outputTokens,
        ...(event.finishReason ? { 'gen_ai.response.finish_reasons': [event.finishReason] } : {}),
        ...(event.requestId ? { 'wavebatch.request.id': event.requestId } : {}),
        'wavebatch.lane': event.lane,
        ...(event.runId !== null ? { 'wavebatch.run.id': event.runId } : {}),
        ...(eventId !== null ? { 'wavebatch.event.id': eventId } : {}),
        'wavebatch.record.id': event.recordId ?? '',
        'wavebatch.chain.id': event.chainId ?? '',
        ...(event.position !== null ? { 'wavebatch.chain.position': event.position } : {}),
        ...(event.jobName ? { 'wavebatch.job.name': event.jobName } : {}),
        'wavebatch.attempt': event.attempt ?? 0,
        'wavebatch.outcome': event.type,
        ...(event.promptName ? { 'wavebatch.prompt.name': event.promptName } : {}),
        ...(event.promptVersion ? { 'wavebatch.prompt.version': event.promptVersion } : {}),
        ...(event.promptHash ? { 'wavebatch.prompt.hash': event.promptHash } : {}),
        'wavebatch.usage.thoughts_tokens': event.thoughtsTokens,
        ...(event.costUsd !== null ? { 'wavebatch.cost.usd': event.costUsd } : {}),
      });
      if (event.cause) {
        span.setAttribute('error.type', event.cause);
        span.setStatus({ code: SpanStatusCode.ERROR, message: redact(event.message ?? event.cause) });
      }
    }
    span.end(event.finishedAt ? Date.parse(event.finishedAt) : this.now());
  }

  /**
   * The context an attempt's span starts in: its job's span, or its run's (a root span outside a
   * run). This run's spans are taken as they were started (whatever the SDK's id generator); an
   * earlier run's by their derived ids.
   */
  private parentOf(event: InferenceEvent): Context {
    if (event.runId === null) return ROOT_CONTEXT;
    const started =
      event.runId === this.runId
        ? ((event.jobId ? this.jobContexts.get(event.jobId) : undefined) ?? this.runContext)
        : null;
    if (started) return trace.setSpanContext(ROOT_CONTEXT, started);
    const spanId = event.jobId ? this.ids.jobSpan(event.runId, event.jobId) : this.ids.runSpan(event.runId);
    return trace.setSpanContext(ROOT_CONTEXT, {
      traceId: this.ids.traceOfRun(event.runId),
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
  }

  /** The attempt's tokens, duration, outcome and cost in the metrics. */
  private measure(event: InferenceEvent): void {
    const common: Attributes = {
      'gen_ai.operation.name': GEN_AI_OPERATION,
      'gen_ai.provider.name': GEN_AI_PROVIDER,
      'gen_ai.request.model': event.model ?? 'unknown',
    };
    this.tokenUsage.record(event.inputTokens, { ...common, 'gen_ai.token.type': 'input' });
    this.tokenUsage.record(event.outputTokens, { ...common, 'gen_ai.token.type': 'output' });
    if (event.latencyMs !== null)
      this.duration.record(event.latencyMs / 1000, {
        ...common,
        ...(event.cause ? { 'error.type': event.cause } : {}),
      });
    this.attempts.add(1, {
      ...common,
      'wavebatch.lane': event.lane,
      'wavebatch.outcome': event.type,
      ...(event.cause ? { 'error.type': event.cause } : {}),
    });
    if (event.costUsd) this.cost.add(event.costUsd, { ...common, 'wavebatch.lane': event.lane });
  }

  /** The job's span, started under the run's span the first time the job is seen in this process. */
  private jobSpan(jobId: string): Span {
    let span = this.jobSpans.get(jobId);
    if (!span) {
      const start = () =>
        this.tracer.startSpan(
          `batch job ${jobId}`,
          { startTime: this.now(), attributes: { 'wavebatch.job.id': jobId, 'wavebatch.lane': 'batch' } },
          this.runSpan ? trace.setSpan(context.active(), this.runSpan) : undefined,
        );
      span =
        this.runId === null ? start() : withSpanIds({ spanId: this.ids.jobSpan(this.runId, jobId) }, start);
      this.jobSpans.set(jobId, span);
      this.jobContexts.set(jobId, span.spanContext());
    }
    return span;
  }

  private endJob(jobId: string, status: { code: SpanStatusCode; message?: string }): void {
    const span = this.jobSpans.get(jobId);
    if (!span) return;
    span.setStatus(status);
    span.end(this.now());
    this.jobSpans.delete(jobId);
  }

  private finishRun(event: Extract<RunnerEvent, { type: 'run-finished' }>): void {
    // Jobs still running when the run ends (run-once) get a span again in the run that collects them.
    for (const jobId of [...this.jobSpans.keys()]) {
      this.jobSpans.get(jobId)?.setAttribute('wavebatch.job.open', true);
      this.endJob(jobId, { code: SpanStatusCode.UNSET });
    }
    const span = this.runSpan;
    if (!span) return;
    span.setAttributes({
      'wavebatch.run.outcome': event.outcome,
      'wavebatch.records.done': event.counts.done,
      'wavebatch.records.dead': event.counts.dead,
      'wavebatch.records.total': event.counts.total,
    });
    span.setStatus(
      event.outcome === 'failed'
        ? { code: SpanStatusCode.ERROR, message: redact(event.error ?? 'the run failed') }
        : { code: SpanStatusCode.OK },
    );
    span.end(event.at);
    this.runSpan = null;
  }
}
