import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportTally } from '../../src/cli/export-tally.js';
import { startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.js';

// The SDK's own flushes cannot say whether what was handed over reached the collector; the tally of
// the exporter's exports can. Real exporters, a real collector stand-in that refuses on demand.
describe('ExportTally', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });

  afterAll(async () => {
    await receiver.close();
  });

  it("says a metric flush was not delivered when the collector refused it (the reader's flush resolves anyway)", async () => {
    const tally = new ExportTally();
    const provider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: tally.watch(new OTLPMetricExporter({ url: `${receiver.url}/v1/metrics` })),
          exportIntervalMillis: 60_000,
        }),
      ],
    });
    const delivery = tally.delivery(() => provider.forceFlush(), true);
    const counter = provider.getMeter('test').createCounter('tally.test');
    try {
      receiver.answer('/v1/metrics', 500);
      let flush = delivery.begin();
      counter.add(1);
      await expect(provider.forceFlush()).resolves.toBeUndefined();
      expect(await flush()).toBe(false);
      receiver.answer('/v1/metrics', 200);
      flush = delivery.begin();
      expect(await flush()).toBe(true);
    } finally {
      await provider.shutdown();
    }
  });

  it('says spans were not delivered when an export the processor started on its own failed', async () => {
    const tally = new ExportTally();
    // A batch of one: the processor exports each span as it ends, before any flush is asked for.
    const processor = new BatchSpanProcessor({
      exporter: tally.watch(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` })),
      maxExportBatchSize: 1,
    });
    const provider = new TracerProvider({ spanProcessors: [processor] });
    const delivery = tally.delivery(() => provider.forceFlush(), false);
    try {
      receiver.answer('/v1/traces', 500);
      let flush = delivery.begin();
      provider.getTracer('test').startSpan('refused').end();
      expect(await flush()).toBe(false);
      receiver.answer('/v1/traces', 200);
      flush = delivery.begin();
      provider.getTracer('test').startSpan('taken').end();
      expect(await flush()).toBe(true);
      expect(receiver.spans().map((span) => span.name)).toEqual(['taken']);
    } finally {
      await provider.shutdown();
    }
  });

  it('counts an exporter that throws as a failed export, never waited for', async () => {
    const tally = new ExportTally();
    const broken: { export(items: unknown[], done: (result: { code: number }) => void): void } = {
      export: () => {
        throw new Error('broken exporter');
      },
    };
    const exporter = tally.watch(broken);
    const flush = tally.delivery(async () => undefined, false).begin();
    expect(() => exporter.export([], () => undefined)).toThrow('broken exporter');
    expect(await flush()).toBe(false);
  });
});
