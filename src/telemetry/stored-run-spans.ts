import { ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { redact } from '../secrets/redact.js';
import type { TracedJob, TracedJobEvent, TracedRun } from '../store/run-traces.js';
import { withSpanIds, type SpanIds } from './span-ids.js';

/** Job states after which a job's span ends. */
export const JOB_ENDS = new Set(['failed', 'cancelled', 'expired', 'lost']);

/** The event a job's span ends with in a run (its results applied, or an end such as FAILED); none while it goes on. */
export function jobEnding(traced: TracedJob): TracedJobEvent | undefined {
  return traced.events.find((event) => event.type === 'processed' || JOB_ENDS.has(event.type));
}

/**
 * The run a job's span is sent in: a run in progress (a job's span sent as it ends) has no end yet,
 * and only its ended jobs are sent.
 */
export type JobSpanRun = Pick<TracedRun, 'id' | 'startedAt'> & { endedAt: string | null };

/**
 * The spans of a run and its batch jobs as the store holds them, under their derived ids, so any
 * process (the run's own when it finishes, the next one after a kill) sends the same spans (see
 * LoggedRunExport).
 */
export class StoredRunSpans {
  constructor(
    private readonly tracer: Tracer,
    private readonly ids: SpanIds,
    private readonly workload: string,
  ) {}

  /** The run's span, the root of its trace. */
  run(run: TracedRun): void {
    const span = withSpanIds({ traceId: this.ids.traceOfRun(run.id), spanId: this.ids.runSpan(run.id) }, () =>
      this.tracer.startSpan(`wavebatch ${run.mode}`, {
        root: true,
        startTime: Date.parse(run.startedAt),
        attributes: {
          'wavebatch.workload': this.workload,
          'wavebatch.run.id': run.id,
          'wavebatch.run.mode': run.mode,
          // A run that stopped without finishing (killed) has no outcome of its own.
          'wavebatch.run.outcome': run.outcome ?? 'unfinished',
          ...(run.counts
            ? {
                'wavebatch.records.done': run.counts.done ?? 0,
                'wavebatch.records.dead': run.counts.dead ?? 0,
                'wavebatch.records.total': run.counts.total ?? 0,
              }
            : {}),
        },
      }),
    );
    if (run.outcome === 'failed')
      span.setStatus({ code: SpanStatusCode.ERROR, message: redact(run.error ?? 'the run failed') });
    else if (run.outcome !== null) span.setStatus({ code: SpanStatusCode.OK });
    span.end(Date.parse(run.endedAt));
  }

  /**
   * A batch job's span in a run, under the run's span, as the log holds what the run saw of it: from
   * the first thing the run logged of it to its end (processed, failed, …), or to the run's end with
   * `wavebatch.job.open` when the job went on after the run. Sent while its run goes on (it ended),
   * its span holds what was logged of it up to then.
   */
  job(run: JobSpanRun, traced: TracedJob): void {
    const { job, events } = traced;
    const ending = jobEnding(traced);
    const first = events[0]?.at;
    const start = first ? Date.parse(first) : Math.max(Date.parse(job.createdAt), Date.parse(run.startedAt));
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: this.ids.traceOfRun(run.id),
      spanId: this.ids.runSpan(run.id),
      traceFlags: TraceFlags.SAMPLED,
    });
    const span = withSpanIds({ spanId: this.ids.jobSpan(run.id, job.id) }, () =>
      this.tracer.startSpan(
        `batch job ${job.id}`,
        {
          startTime: start,
          attributes: {
            'wavebatch.job.id': job.id,
            'wavebatch.lane': 'batch',
            ...(job.remoteName ? { 'wavebatch.job.name': job.remoteName } : {}),
            'wavebatch.job.kind': job.kind,
            'wavebatch.job.requests': job.requestCount,
            'wavebatch.job.records': job.recordCount,
            'gen_ai.request.model': job.model,
            ...(traced.attempts > 0
              ? {
                  'wavebatch.job.succeeded': traced.done,
                  'wavebatch.job.failed': traced.attempts - traced.done,
                }
              : {}),
            ...(ending ? {} : { 'wavebatch.job.open': true }),
          },
        },
        parent,
      ),
    );
    // Up to its end: the span is the same whether it is sent as the job ends or with its run.
    for (const event of events.filter((seen) => !ending || seen.id <= ending.id))
      span.addEvent(
        `state ${event.type}`,
        event.message ? { 'wavebatch.message': redact(event.message) } : {},
        Date.parse(event.at),
      );
    if (ending?.type === 'processed') span.setStatus({ code: SpanStatusCode.OK });
    else if (ending)
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: redact(ending.message ?? job.error ?? `the job ended ${ending.type}`),
      });
    span.end(Date.parse(ending?.at ?? run.endedAt ?? events.at(-1)?.at ?? run.startedAt));
  }
}
