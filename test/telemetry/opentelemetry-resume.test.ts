import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import { runCli } from '../fixtures/cli.js';
import { killThenResume, loggedAttempts, writeFlexCatalog } from '../fixtures/killed-cli-run.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
  type SumPoint,
} from '../fixtures/otlp-receiver.js';

const API_KEY = 'otel-resume-key-5678';
const ATTEMPT_SPAN = 'generate_content gemini-2.5-flash';

/** How many attempt spans the collector received per record. */
function spansPerRecord(spans: ReceivedSpan[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const span of spans.filter((s) => s.name === ATTEMPT_SPAN)) {
    const id = String(span.attributes['wavebatch.record.id']);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** A counter's total over every process that exported it: each series' (start time, attributes) latest value. */
function counterTotal(points: SumPoint[]): number {
  const latest = new Map<string, SumPoint>();
  for (const point of points) {
    const series = `${point.startTimeUnixNano} ${JSON.stringify(point.attributes)}`;
    const seen = latest.get(series);
    if (!seen || BigInt(point.timeUnixNano) > BigInt(seen.timeUnixNano)) latest.set(series, point);
  }
  return [...latest.values()].reduce((sum, point) => sum + point.value, 0);
}

// A run killed with SIGKILL takes the spans and counts its SDK held in memory with it; the run that
// resumes the workload exports them from the inference log first.
describe('OpenTelemetry export of a killed run', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let root: string;
  let attempts: StoredEvent[];
  let killedRunAttempts: StoredEvent[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // The run is killed with requests in flight.
    emulator = await startEmulator({ timeScale: 3_000, seed: 17 });
    const workload = writeFlexCatalog(emulator.url, 3, 3);
    root = workload.root;
    const env = { GEMINI_API_KEY: API_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const args = ['run', '-c', workload.configPath];

    // Killed once three attempts are logged: well before its SDK's 5 s batch would have sent them.
    ({ killedRunAttempts, attempts } = await killThenResume({ root, args, env, killAfter: 3 }));
  }, 120_000);

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('exports every logged attempt, the killed run’s too, each once', () => {
    expect(killedRunAttempts.length).toBeGreaterThanOrEqual(3);
    const perRecord = new Map<string, number>();
    for (const attempt of attempts)
      perRecord.set(attempt.recordId ?? '', (perRecord.get(attempt.recordId ?? '') ?? 0) + 1);
    expect(spansPerRecord(receiver.spans())).toEqual(perRecord);
    const exported = receiver.spans().filter((span) => span.name === ATTEMPT_SPAN);
    expect(exported.map((span) => span.attributes['wavebatch.event.id']).sort()).toEqual(
      attempts.map((attempt) => attempt.id).sort(),
    );
  });

  it("puts the killed run's attempts in that run's trace, under the ids a re-export would give them", () => {
    const killedRun = killedRunAttempts[0]?.runId;
    const spans = receiver.spans().filter((span) => span.name === ATTEMPT_SPAN);
    const ofKilled = spans.filter((span) => span.attributes['wavebatch.run.id'] === killedRun);
    expect(ofKilled.length).toBe(killedRunAttempts.length);
    expect(new Set(ofKilled.map((span) => span.traceId)).size).toBe(1);
    const resumedRun = spans.find((span) => span.attributes['wavebatch.run.id'] !== killedRun);
    expect(resumedRun?.traceId).not.toBe(ofKilled[0]?.traceId);
    // Each run's attempts nest under its run span: the killed run's is sent by the resumed run.
    for (const attempt of [ofKilled[0], resumedRun]) {
      const runSpan = receiver
        .spans()
        .find(
          (span) =>
            span.name === 'wavebatch run' &&
            span.attributes['wavebatch.run.id'] === attempt?.attributes['wavebatch.run.id'],
        );
      expect(runSpan?.traceId).toBe(attempt?.traceId);
      expect(attempt?.parentSpanId).toBe(runSpan?.spanId);
    }
  });

  it('counts every logged attempt in the metrics, and sends no secret', () => {
    expect(counterTotal(receiver.sumPoints('wavebatch.attempts'))).toBe(attempts.length);
    for (const bodies of receiver.bodies.values())
      for (const body of bodies) expect(body).not.toContain(API_KEY);
  });
});

// A collector that refuses the spans: the watermark stays, and the next run on the workload sends
// them again, as the same spans (ids derived from the logged events), the counts not again.
describe('OpenTelemetry export refused by the collector', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let root: string;
  let attempts: StoredEvent[];
  let refusedRun: { code: number | null; stderr: string };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    emulator = await startEmulator({ timeScale: 3_000, seed: 19 });
    const workload = writeFlexCatalog(emulator.url, 2, 2);
    root = workload.root;
    const env = { GEMINI_API_KEY: API_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    // 500 is not retried by the exporter: the refusal is seen at once.
    receiver.answer('/v1/traces', 500);
    refusedRun = await runCli(['run', '-c', workload.configPath], { env });
    receiver.answer('/v1/traces', 200);
    const again = await runCli(['run', '-c', workload.configPath], { env });
    expect(again.code).toBe(0);
    attempts = await loggedAttempts(root);
  }, 120_000);

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('finishes the run, says the export is behind, and sends the refused attempts with the next run', () => {
    expect(refusedRun.code).toBe(0);
    expect(refusedRun.stderr).toContain('OpenTelemetry export is behind');
    const exported = receiver.spans().filter((span) => span.name === ATTEMPT_SPAN);
    expect(exported.map((span) => span.attributes['wavebatch.event.id']).sort()).toEqual(
      attempts.map((attempt) => attempt.id).sort(),
    );
  });

  it('sends a refused attempt again as the same span, in the same trace, and counts it once', () => {
    const ids = (spans: ReceivedSpan[]) =>
      new Set(
        spans
          .filter((span) => span.name === ATTEMPT_SPAN)
          .map((span) => `${span.traceId}/${span.spanId}/${span.parentSpanId}`),
      );
    const refused = ids(receiver.refusedSpans());
    expect(refused.size).toBe(attempts.length);
    expect(ids(receiver.spans())).toEqual(refused);
    expect(counterTotal(receiver.sumPoints('wavebatch.attempts'))).toBe(attempts.length);
  });
});

// The watermark starts when export is first set up for a workload: earlier attempts are not its
// backlog; a run made without the endpoint after that leaves its attempts to the next run that has it.
describe('OpenTelemetry export across runs with and without an endpoint', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let root: string;
  const logged: StoredEvent[][] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    emulator = await startEmulator({ timeScale: 3_000, seed: 29 });
    const workload = writeFlexCatalog(emulator.url, 4, 2);
    root = workload.root;
    const exporting = { GEMINI_API_KEY: API_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const plain = { GEMINI_API_KEY: API_KEY };
    // A book at a time, then the rest.
    for (const [env, only] of [
      [plain, ['--only', 'ST/school1/**']],
      [exporting, ['--only', 'ST/school2/**']],
      [plain, ['--only', 'ST/school3/**']],
      [exporting, []],
    ] as const) {
      const before = (await loggedAttempts(root).catch(() => [])).length;
      const run = await runCli(['run', '-c', workload.configPath, ...only], { env });
      expect(run.code).toBe(0);
      logged.push((await loggedAttempts(root)).slice(before));
    }
  }, 120_000);

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('exports every attempt logged since export was first set up, and none before', () => {
    const [beforeSetUp, ...since] = logged;
    expect(beforeSetUp?.length).toBeGreaterThan(0);
    expect(since.every((attempts) => attempts.length > 0)).toBe(true);
    const exported = receiver.spans().filter((span) => span.name === ATTEMPT_SPAN);
    expect(exported.map((span) => span.attributes['wavebatch.event.id']).sort()).toEqual(
      since
        .flat()
        .map((attempt) => attempt.id)
        .sort(),
    );
    expect(counterTotal(receiver.sumPoints('wavebatch.attempts'))).toBe(since.flat().length);
  });
});
