import { metrics, trace } from '@opentelemetry/api';
import { MAX_TIMER_MS } from '../clock.js';
import type { OpenTelemetryDelivery } from '../telemetry/otel-delivery.js';
import { DerivedIdGenerator } from '../telemetry/span-ids.js';
import { ExportTally } from './export-tally.js';

/** How long exporting what is left may hold up the end of a command. */
export const OTEL_SHUTDOWN_TIMEOUT_MS = 2000;

/** A registered OpenTelemetry SDK, to be shut down when the command ends. */
export interface OpenTelemetryExport {
  /** Whether what is handed to the SDK reaches the collector, per signal (for the workload session). */
  delivery: OpenTelemetryDelivery;
  /** Flushes and stops the exporters, waiting at most the timeout; true when it finished in time. */
  shutdown(): Promise<boolean>;
}

export interface OpenTelemetrySetupOptions {
  env?: NodeJS.ProcessEnv;
  shutdownTimeoutMs?: number;
}

/**
 * Registers the OpenTelemetry SDK with OTLP/HTTP exporters: traces when OTEL_EXPORTER_OTLP_ENDPOINT
 * or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, metrics when OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is (a traces endpoint alone sent metrics to the exporter's
 * default, localhost:4318, which nobody had named); null when neither, and nothing is loaded. The exporters read the standard OTEL_EXPORTER_OTLP_* variables (headers, timeout);
 * OTEL_SERVICE_NAME names the service (default `wavebatch`), OTEL_SDK_DISABLED=true turns it off.
 * The library reports through @opentelemetry/api only: this is the one place the SDK is loaded.
 */
export async function startOpenTelemetry(
  options: OpenTelemetrySetupOptions = {},
): Promise<OpenTelemetryExport | null> {
  const env = options.env ?? process.env;
  const traces = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const measured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  if ((!traces && !measured) || env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return null;
  const [traceSdk, metricsSdk, traceExporter, metricExporter, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resources.resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME || 'wavebatch',
  });
  // Each signal's exports are counted: the SDK's flushes alone cannot say what reached the collector.
  const spanTally = new ExportTally();
  const metricTally = new ExportTally();
  const tracerProvider = traces
    ? new traceSdk.TracerProvider({
        resource,
        // Span ids derived from the store's run, job and event: an attempt exported again is the same span.
        idGenerator: new DerivedIdGenerator(),
        spanProcessors: [
          new traceSdk.BatchSpanProcessor({
            exporter: spanTally.watch(new traceExporter.OTLPTraceExporter()),
          }),
        ],
      })
    : null;
  const meterProvider = measured
    ? new metricsSdk.MeterProvider({
        resource,
        readers: [
          new metricsSdk.PeriodicExportingMetricReader({
            exporter: metricTally.watch(new metricExporter.OTLPMetricExporter()),
            exportIntervalMillis: 60_000,
          }),
        ],
      })
    : null;
  if (tracerProvider) trace.setGlobalTracerProvider(tracerProvider);
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  // Capped to what a timer holds: a longer timeout would overflow and fire after 1 ms.
  const timeoutMs = Math.min(options.shutdownTimeoutMs ?? OTEL_SHUTDOWN_TIMEOUT_MS, MAX_TIMER_MS);
  return {
    delivery: {
      traces: tracerProvider ? spanTally.delivery(() => tracerProvider.forceFlush(), false) : null,
      metrics: meterProvider ? metricTally.delivery(() => meterProvider.forceFlush(), true) : null,
    },
    shutdown: async () => {
      const stopped = Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]).then(
        () => true,
      );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      try {
        return await Promise.race([stopped, late]);
      } finally {
        clearTimeout(timer);
        trace.disable();
        metrics.disable();
      }
    },
  };
}
