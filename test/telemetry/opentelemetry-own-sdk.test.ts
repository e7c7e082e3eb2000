import { rmSync } from 'node:fs';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { OpenTelemetryDelivery } from '../../src/telemetry/otel-delivery.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../fixtures/session.js';

/** Every span `run` exported, through an SDK registered as a library user would (random ids). */
async function spansOfRun(
  emulator: RunningEmulator,
  openTelemetry: OpenTelemetryDelivery | undefined,
): Promise<ReturnType<InMemorySpanExporter['getFinishedSpans']>> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(provider);
  const workload = writeCatalogWorkload({
    books: 2,
    pages: 2,
    execution: { poll_interval: 20 },
    extraYaml: `api:\n  base_url: ${emulator.url}`,
  });
  try {
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      ...(openTelemetry ? { openTelemetry } : {}),
    });
    try {
      await session.runner.run();
    } finally {
      await session.close();
    }
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  } finally {
    trace.disable();
    await provider.shutdown();
    rmSync(workload.root, { recursive: true, force: true });
  }
}

/** A delivery that says every flush was delivered (the in-memory exporter keeps everything). */
const alwaysDelivered: OpenTelemetryDelivery = {
  traces: { begin: () => async () => true },
  metrics: null,
};

// A program that registers its own SDK, with its own (random) id generator: the attempts still nest
// under their batch job's span, exported as they settle or from the inference log.
describe.each([
  ['as they settle', undefined],
  ['from the inference log', alwaysDelivered],
])('OpenTelemetry through your own SDK, attempts exported %s', (_how, openTelemetry) => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 23 });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('nests each attempt under its batch job, and the jobs under the run', async () => {
    const spans = await spansOfRun(emulator, openTelemetry);
    const attempts = spans.filter((span) => span.name.startsWith('generate_content'));
    const jobs = spans.filter((span) => span.name.startsWith('batch job '));
    const [run] = spans.filter((span) => span.name === 'wavebatch run');
    expect(attempts).toHaveLength(4);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
    const jobIds = new Set(jobs.map((job) => job.spanContext().spanId));
    for (const attempt of attempts) expect(jobIds.has(attempt.parentSpanContext?.spanId ?? '')).toBe(true);
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
  });
});
