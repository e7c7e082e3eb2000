import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../sha256.js';

/**
 * Trace and span ids derived from what the store knows (its id, the run, the job, the logged event),
 * so a span exported twice (once by a run that died before it recorded the delivery, again by the
 * next run) is the same span, with the same ids, in the same trace: a collector sees a duplicate of
 * one span, never a second attempt.
 *
 * The OpenTelemetry API cannot choose a span's own id; the SDK's id generator does. `withSpanIds`
 * leaves the ids for the next span started, and `DerivedIdGenerator` (registered by the CLI, or by
 * your own SDK: `new TracerProvider({ idGenerator: new DerivedIdGenerator() })`) hands them out; any
 * other generator draws random ids, and only the trace and parent stay derived.
 */

/** The ids the next span started is to have: read once, by the span being started. */
let requested: { traceId?: string; spanId: string } | null = null;

/** Starts a span (through `start`) with these ids when the SDK's generator is `DerivedIdGenerator`. */
export function withSpanIds<T>(ids: { traceId?: string; spanId: string }, start: () => T): T {
  requested = ids;
  try {
    return start();
  } finally {
    requested = null;
  }
}

/** An SDK id generator that hands out the ids `withSpanIds` asked for, random ones otherwise. */
export class DerivedIdGenerator {
  generateTraceId(): string {
    return requested?.traceId ?? randomBytes(16).toString('hex');
  }

  generateSpanId(): string {
    return requested?.spanId ?? randomBytes(8).toString('hex');
  }
}

/** The ids of one store's spans. */
export class SpanIds {
  /** `scope` names the store: its workload and store id. */
  constructor(private readonly scope: string) {}

  /** A run's trace: its run span and everything under it. */
  traceOfRun(runId: number): string {
    return this.derive(`run/${runId}/trace`, 32);
  }

  runSpan(runId: number): string {
    return this.derive(`run/${runId}`, 16);
  }

  /** A batch job's span in a run (a job collected by a later run has a span in that run too). */
  jobSpan(runId: number, jobId: string): string {
    return this.derive(`run/${runId}/job/${jobId}`, 16);
  }

  /** A logged event's span (an attempt's). */
  eventSpan(eventId: number): string {
    return this.derive(`event/${eventId}`, 16);
  }

  /** The trace of an event logged outside any run. */
  traceOfEvent(eventId: number): string {
    return this.derive(`event/${eventId}/trace`, 32);
  }

  private derive(what: string, hexLength: number): string {
    return sha256Hex(`wavebatch/${this.scope}/${what}`).slice(0, hexLength);
  }
}
