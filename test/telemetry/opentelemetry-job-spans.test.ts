import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import { runCli, startCli } from '../fixtures/cli.js';
import { loggedAttempts, writeTracedBatchCatalog } from '../fixtures/killed-cli-run.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';

const API_KEY = 'otel-job-spans-key-8642';

const isJob = (span: ReceivedSpan) => span.name.startsWith('batch job ');
const isRun = (span: ReceivedSpan) => span.name === 'wavebatch run';

/** Resolves once `ready()` holds, looking every 20 ms (at most `limitMs`). */
async function until(ready: () => boolean, limitMs: number, step?: () => void): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('timed out');
    step?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// A batch job's span is sent from the store as soon as its end is logged, while the run goes on, under
// its derived ids and a watermark of the job ends delivered: a run killed after that sends it no more,
// and the next run sends the rest (the run's span, the jobs it left open, its own), each once.
describe('OpenTelemetry job spans while the run goes on, and after a kill', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let root: string;
  /** Emulated time is moved by the test: jobs end when it says. */
  let ahead = 0;
  let runningWhenFirstJobSpanCame = false;
  let runSpansBeforeKill = -1;
  let killedCode: number | null = 0;
  let killedRunAttempts: StoredEvent[];
  let attempts: StoredEvent[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // One record per job, each job done 1 to 60 emulated minutes after it is created.
    emulator = await startEmulator({
      timeScale: 1,
      realNow: () => Date.now() + ahead,
      turnaroundMs: { min: 60_000, max: 3_600_000 },
      seed: 53,
    });
    const traced = writeTracedBatchCatalog({
      emulatorUrl: emulator.url,
      collectorUrl: receiver.url,
      apiKey: API_KEY,
      books: 4,
      pages: 1,
    });
    root = traced.root;
    const { args, env } = traced;

    const killed = startCli(args, { env });
    // Emulated time moves 20 s a step until the first job's span reaches the collector.
    await until(
      () => receiver.spans().some(isJob),
      60_000,
      () => (ahead += 20_000),
    );
    runningWhenFirstJobSpanCame = killed.child.exitCode === null;
    runSpansBeforeKill = receiver.spans().filter(isRun).length;
    const [first] = receiver.spans().filter(isJob);
    // Its attempt's span too, and time for the watermarks to be written: then the run is killed.
    await until(
      () =>
        receiver
          .spans()
          .some((span) => span.name.startsWith('generate_content') && span.parentSpanId === first?.spanId),
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    killed.child.kill('SIGKILL');
    killedCode = (await killed.result).code;
    killedRunAttempts = await loggedAttempts(root);
    // Every job is done by now; the next run collects them.
    ahead += 4 * 3_600_000;
    const resumed = await runCli(args, { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    attempts = await loggedAttempts(root);
  }, 150_000);

  afterAll(async () => {
    await emulator?.close();
    await receiver?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('sends a job’s span as it ends, before its run is over', () => {
    expect(runningWhenFirstJobSpanCame).toBe(true);
    expect(runSpansBeforeKill).toBe(0);
    expect(killedRunAttempts.length).toBeGreaterThanOrEqual(1);
    expect(killedRunAttempts.length).toBeLessThan(4);
  });

  it('sends every span once after the kill and the resumed run: run, job and attempt spans', () => {
    expect(killedCode, 'killed by SIGKILL').toBeNull();
    const spans = receiver.spans();
    const times = new Map<string, number>();
    for (const span of spans) times.set(span.spanId, (times.get(span.spanId) ?? 0) + 1);
    expect([...times.entries()].filter(([, count]) => count > 1)).toEqual([]);

    const runIds = [...new Set(attempts.map((attempt) => attempt.runId))];
    expect(runIds.length).toBe(2);
    expect(spans.filter(isRun).map((span) => span.attributes['wavebatch.run.id'])).toEqual(
      expect.arrayContaining(runIds),
    );
    const attemptSpans = spans.filter((span) => span.name.startsWith('generate_content'));
    expect(attemptSpans.length).toBe(attempts.length);
    // Each attempt nests under a job span received; the jobs the killed run left open end with it.
    const jobs = spans.filter(isJob);
    for (const attempt of attemptSpans)
      expect(jobs.some((job) => job.spanId === attempt.parentSpanId)).toBe(true);
    const killedRun = spans.find(
      (span) => isRun(span) && span.attributes['wavebatch.run.id'] === killedRunAttempts[0]?.runId,
    );
    const open = jobs.filter(
      (job) => job.parentSpanId === killedRun?.spanId && job.attributes['wavebatch.job.open'] === true,
    );
    expect(open.length).toBe(4 - killedRunAttempts.length);
    for (const body of receiver.bodies.get('/v1/traces') ?? []) expect(body).not.toContain(API_KEY);
  });
});
