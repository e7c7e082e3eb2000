import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import { killThenResume, writeTracedBatchCatalog } from '../fixtures/killed-cli-run.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';

const API_KEY = 'otel-run-spans-key-4321';

/** The spans received, one per span id (a span sent again replaces itself). */
function distinct(spans: ReceivedSpan[]): ReceivedSpan[] {
  return [...new Map(spans.map((span) => [span.spanId, span])).values()];
}

// A batch run killed with SIGKILL never ended its run span, nor the spans of its jobs: the SDK held
// what had ended in memory. The run that resumes the workload sends them from the store, under the
// ids the killed run's attempts name as their parents.
describe('OpenTelemetry run and job spans of a killed batch run', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let root: string;
  let killedRunAttempts: StoredEvent[];
  let attempts: StoredEvent[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Jobs of one record each, turned around in 8-100 real ms: some processed, some open at the kill.
    emulator = await startEmulator({ timeScale: 600, turnaroundMs: { min: 5_000, max: 60_000 }, seed: 41 });
    const traced = writeTracedBatchCatalog({
      emulatorUrl: emulator.url,
      collectorUrl: receiver.url,
      apiKey: API_KEY,
      books: 3,
      pages: 2,
    });
    root = traced.root;
    ({ killedRunAttempts, attempts } = await killThenResume({ ...traced, killAfter: 1 }));
  }, 120_000);

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("sends the killed run's span and its jobs' spans, and nests every attempt of both runs under its job's span", () => {
    const killedRun = killedRunAttempts[0]?.runId;
    expect(killedRun).toBeDefined();
    const spans = distinct(receiver.spans());
    const runSpans = new Map(
      spans
        .filter((span) => span.name === 'wavebatch run')
        .map((span) => [span.attributes['wavebatch.run.id'], span]),
    );
    const runIds = [...new Set(attempts.map((attempt) => attempt.runId))];
    expect(runIds).toContain(killedRun);
    expect(runIds.length).toBe(2);
    for (const runId of runIds) expect(runSpans.get(runId), `run ${runId}'s span`).toBeDefined();
    expect(runSpans.get(killedRun)?.attributes['wavebatch.run.outcome']).toBe('unfinished');

    const jobSpans = spans.filter((span) => span.name.startsWith('batch job '));
    for (const job of jobSpans) {
      const run = [...runSpans.values()].find((span) => span.spanId === job.parentSpanId);
      expect(run, `${job.name}'s run`).toBeDefined();
      expect(job.traceId).toBe(run?.traceId);
    }
    const attemptSpans = spans.filter((span) => span.name.startsWith('generate_content'));
    expect(attemptSpans.length).toBe(attempts.length);
    for (const attempt of attemptSpans) {
      const job = jobSpans.find((span) => span.spanId === attempt.parentSpanId);
      expect(job, `the job of attempt ${String(attempt.attributes['wavebatch.event.id'])}`).toBeDefined();
      expect(job?.traceId).toBe(attempt.traceId);
      expect(job?.traceId).toBe(runSpans.get(attempt.attributes['wavebatch.run.id'])?.traceId);
    }
  });

  it('ends a job the killed run left running with that run, open, and gives it a span in the run that collected it', () => {
    const killedRun = killedRunAttempts[0]?.runId;
    const spans = distinct(receiver.spans());
    const runSpan = (runId: unknown) =>
      spans.find((span) => span.name === 'wavebatch run' && span.attributes['wavebatch.run.id'] === runId);
    const killed = runSpan(killedRun);
    const resumed = runSpan(attempts.at(-1)?.runId);
    const jobsOf = (run: ReceivedSpan | undefined) =>
      spans.filter((span) => span.name.startsWith('batch job ') && span.parentSpanId === run?.spanId);
    const open = jobsOf(killed).filter((span) => span.attributes['wavebatch.job.open'] === true);
    expect(open.length).toBeGreaterThanOrEqual(1);
    for (const job of open) expect(job.endTimeUnixNano).toBe(killed?.endTimeUnixNano);
    const collected = jobsOf(resumed).filter((span) => open.some((job) => job.name === span.name));
    expect(collected.length).toBeGreaterThanOrEqual(1);
    // Processed in the resumed run: ended there, OK.
    for (const job of collected) expect(job.status?.code).toBe(1);
    for (const bodies of receiver.bodies.values())
      for (const body of bodies) expect(body).not.toContain(API_KEY);
  });
});
