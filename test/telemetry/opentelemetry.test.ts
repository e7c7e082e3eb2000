import { rmSync } from 'node:fs';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenTelemetry } from '../../src/cli/opentelemetry-setup.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli, type CliResult } from '../fixtures/cli.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';
import { useSilentServer } from '../fixtures/silent-server.js';

// `wavebatch run` in a child process exports to a local OTLP/HTTP collector; the spans are checked
// against what the emulator billed.
describe('OpenTelemetry export', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let root: string;
  let chains: string[][];
  let run: CliResult;
  let spans: ReceivedSpan[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 31 });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { max_retries: 2, poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    chains = workload.chains;
    emulator.setFaults({ byKey: { [chains[0]?.[1] as string]: ['max_tokens'] } });
    run = await runCli(['run', '-c', workload.configPath], {
      env: {
        GEMINI_API_KEY: 'otel-test-key-1234',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'catalog-pipeline',
      },
    });
    spans = receiver.spans();
  });

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('exports a span per attempt with the GenAI attributes, agreeing with the ledger', () => {
    expect(run.code).toBe(0);
    const attempts = spans.filter((span) => span.name === 'generate_content gemini-2.5-flash');
    const ledger = emulator.ledger.entries();
    expect(attempts).toHaveLength(ledger.length);
    for (const entry of ledger) {
      const span = attempts.find(
        (s) =>
          s.attributes['wavebatch.record.id'] === entry.key &&
          s.attributes['wavebatch.job.name'] === entry.batchName,
      );
      expect(span?.kind).toBe(3); // CLIENT
      expect(span?.attributes).toMatchObject({
        'gen_ai.operation.name': 'generate_content',
        'gen_ai.system': 'gcp.gemini',
        'gen_ai.provider.name': 'gcp.gemini',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'gen_ai.usage.input_tokens': entry.inputTokens,
        'gen_ai.usage.output_tokens': entry.outputTokens,
        'wavebatch.lane': 'batch',
        'wavebatch.prompt.version': 'v1',
      });
      expect(span?.attributes['gen_ai.response.finish_reasons']).toEqual([
        entry.outcome === 'max_tokens' ? 'MAX_TOKENS' : 'STOP',
      ]);
    }
    const failed = attempts.find((s) => s.attributes['error.type'] === 'max_tokens');
    expect(failed?.status?.code).toBe(2); // ERROR
    expect(failed?.attributes['wavebatch.outcome']).toBe('retry');
  });

  it('nests attempts under their batch job and jobs under the run', () => {
    const [runSpan, ...others] = spans.filter((span) => span.name === 'wavebatch run');
    expect(others).toHaveLength(0);
    expect(runSpan?.attributes).toMatchObject({
      'wavebatch.run.outcome': 'finished',
      'wavebatch.records.done': 4,
    });
    const jobs = spans.filter((span) => span.name.startsWith('batch job '));
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    for (const job of jobs) expect(job.parentSpanId).toBe(runSpan?.spanId);
    const jobIds = new Set(jobs.map((job) => job.spanId));
    for (const attempt of spans.filter((span) => span.name.startsWith('generate_content')))
      expect(jobIds.has(attempt.parentSpanId ?? '')).toBe(true);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
  });

  it('exports the GenAI metrics and names the service', () => {
    expect(receiver.metricNames()).toEqual(
      expect.arrayContaining([
        'gen_ai.client.token.usage',
        'gen_ai.client.operation.duration',
        'wavebatch.cost',
      ]),
    );
    expect(receiver.bodies.get('/v1/traces')?.[0]).toContain('catalog-pipeline');
    for (const bodies of receiver.bodies.values())
      for (const body of bodies) expect(body).not.toContain('otel-test-key-1234');
  });
});

describe('OpenTelemetry set-up', () => {
  const blackhole = useSilentServer();

  it('loads nothing without an endpoint', async () => {
    expect(await startOpenTelemetry({ env: {} })).toBeNull();
    expect(
      await startOpenTelemetry({
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_SDK_DISABLED: 'true' },
      }),
    ).toBeNull();
  });

  it('exports traces and metrics each only where an endpoint names them', async () => {
    const traced = await startOtlpReceiver();
    const measured = await startOtlpReceiver();
    const names = [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    ];
    const saved = names.map((name) => process.env[name]);
    // The exporters read the variables from the process's environment.
    const setEnv = (values: Record<string, string>) => {
      for (const name of names) delete process.env[name];
      Object.assign(process.env, values);
      return values;
    };
    try {
      // A traces endpoint alone: no metrics (they went to the exporter's default, localhost:4318).
      const tracesOnly = await startOpenTelemetry({
        env: setEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${traced.url}/v1/traces` }),
      });
      expect(metrics.getMeterProvider()).not.toBeInstanceOf(MeterProvider);
      trace.getTracer('test').startSpan('traced').end();
      expect(await tracesOnly?.shutdown()).toBe(true);
      expect(traced.spans().map((span) => span.name)).toEqual(['traced']);

      const both = await startOpenTelemetry({
        env: setEnv({
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${traced.url}/v1/traces`,
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${measured.url}/v1/metrics`,
        }),
      });
      expect(metrics.getMeterProvider()).toBeInstanceOf(MeterProvider);
      metrics.getMeter('test').createCounter('wavebatch.test.counted').add(1);
      expect(await both?.shutdown()).toBe(true);
      expect(measured.metricNames()).toEqual(['wavebatch.test.counted']);
      expect(traced.bodies.has('/v1/metrics')).toBe(false);
    } finally {
      names.forEach((name, index) => {
        const value = saved[index];
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      });
      await traced.close();
      await measured.close();
    }
  });

  it('bounds the shutdown when the collector never answers', async () => {
    const otel = await startOpenTelemetry({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: blackhole.url },
      shutdownTimeoutMs: 300,
    });
    trace.getTracer('test').startSpan('pending').end();
    const started = performance.now();
    expect(await otel?.shutdown()).toBe(false);
    // The exporter's own timeout is 10 s; the shutdown gave up after its bound.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
