import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { RunnerEvent } from '../runner/events.js';
import { redact } from '../secrets/redact.js';
import type { InferenceEvent } from '../store/event-log.js';
import type { TelemetrySink } from './run-telemetry.js';

/** The instrumentation scope every span and metric is reported under. */
export const INSTRUMENTATION_SCOPE = 'wavebatch';
/** `gen_ai.provider.name` (and the older `gen_ai.system`) of the Gemini Developer API. */
export const GEN_AI_PROVIDER = 'gcp.gemini';
/** `gen_ai.operation.name` of a generateContent request, batched or not. */
export const GEN_AI_OPERATION = 'generate_content';

/** Job states after which a job's span ends. */
const JOB_ENDS = new Set(['failed', 'cancelled', 'expired', 'lost']);

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
  private readonly jobSpans = new Map<string, Span>();

  constructor(
    private readonly workload: string,
    private readonly now: () => number,
  ) {
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
  }

  handle(event: RunnerEvent): void {
    switch (event.type) {
      case 'run-started':
        this.runSpan = this.tracer.startSpan(`wavebatch ${event.mode}`, {
          startTime: event.at,
          attributes: {
            'wavebatch.workload': this.workload,
            'wavebatch.run.id': event.runId,
            'wavebatch.run.mode': event.mode,
          },
        });
        return;
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
        if (event.event) this.attempt(event.event);
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

  /** Ends what is still open; the exporting SDK (if any) is flushed by whoever registered it. */
  async close(): Promise<boolean> {
    for (const jobId of [...this.jobSpans.keys()]) this.endJob(jobId, { code: SpanStatusCode.UNSET });
    this.runSpan?.end(this.now());
    this.runSpan = null;
    return true;
  }

  private attempt(event: InferenceEvent): void {
    const model = event.model ?? 'unknown';
    const common: Attributes = {
      'gen_ai.operation.name': GEN_AI_OPERATION,
      'gen_ai.provider.name': GEN_AI_PROVIDER,
      'gen_ai.request.model': model,
    };
    const parent = (event.jobId ? this.jobSpans.get(event.jobId) : undefined) ?? this.runSpan;
    const span = this.tracer.startSpan(
      `${GEN_AI_OPERATION} ${model}`,
      { kind: SpanKind.CLIENT, ...(event.startedAt ? { startTime: Date.parse(event.startedAt) } : {}) },
      parent ? trace.setSpan(context.active(), parent) : undefined,
    );
    // Without an SDK (or when sampled out) the span records nothing: its ~20 attributes are not built
    // (a million attempts each built them for nothing).
    if (span.isRecording()) {
      span.setAttributes({
        ...common,
        'gen_ai.system': GEN_AI_PROVIDER,
        'gen_ai.usage.input_tokens': event.inputTokens,
        'gen_ai.usage.output_tokens': event.outputTokens,
        ...(event.finishReason ? { 'gen_ai.response.finish_reasons': [event.finishReason] } : {}),
        ...(event.requestId ? { 'wavebatch.request.id': event.requestId } : {}),
        'wavebatch.lane': event.lane,
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
      span = this.tracer.startSpan(
        `batch job ${jobId}`,
        { startTime: this.now(), attributes: { 'wavebatch.job.id': jobId, 'wavebatch.lane': 'batch' } },
        this.runSpan ? trace.setSpan(context.active(), this.runSpan) : undefined,
      );
      this.jobSpans.set(jobId, span);
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
