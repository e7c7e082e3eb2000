import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startEmulator, type LedgerEntry, type RunningEmulator } from '../../src/emulator/index.js';
import { WorkloadService } from '../../src/service/index.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import { catalogRecordOf } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli, type CliResult } from '../fixtures/cli.js';
import { startFakeBraintrust, type BraintrustRow, type FakeBraintrust } from '../fixtures/fake-braintrust.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';
import { billed } from '../fixtures/billed-figures.js';

const GEMINI_KEY = 'sync-telemetry-key-7f3e91c2';
const BRAINTRUST_KEY = 'sync-telemetry-bt-key-0a4d55';

interface Tokens {
  input: number;
  output: number;
  cost: number;
  count: number;
}

/** Sums of tokens and cost per record, from any source of billed or logged attempts. */
function perRecord<T>(
  items: readonly T[],
  of: (item: T) => { id: string; input: number; output: number; cost: number },
) {
  const sums = new Map<string, Tokens>();
  for (const item of items) {
    const { id, input, output, cost } = of(item);
    const sum = sums.get(id) ?? { input: 0, output: 0, cost: 0, count: 0 };
    sums.set(id, {
      input: sum.input + input,
      output: sum.output + output,
      cost: sum.cost + cost,
      count: sum.count + 1,
    });
  }
  return sums;
}

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// `wavebatch run` on Flex, in a child process, with shed requests and faulty answers; the inference
// log, the OTLP spans and the Braintrust spans are each checked against the emulator's ledger. A
// synchronous attempt's event carries every call billed for it (an empty answer retried inside the
// attempt is billed too), so the comparison is per record, not per call.
describe('synchronous lanes on record: inference log, OpenTelemetry and Braintrust agree with the ledger', () => {
  let emulator: RunningEmulator;
  let receiver: OtlpReceiver;
  let braintrust: FakeBraintrust;
  let root: string;
  let configPath: string;
  let ids: string[];
  let run: CliResult;
  let ledger: LedgerEntry[];
  let attempts: StoredEvent[];
  let spans: ReceivedSpan[];
  let logged: BraintrustRow[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    braintrust = await startFakeBraintrust();
    emulator = await startEmulator({
      timeScale: 3000,
      seed: 17,
      tiers: { flex: { latencyMs: { min: 60_000, max: 6 * 60_000 }, shedRate: 0.25 } },
      faults: { rates: { invalid_json: 0.15, max_tokens: 0.1 } },
    });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 3,
      execution: { mode: 'flex', sync_concurrency: 6, max_retries: 4 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    configPath = workload.configPath;
    ids = workload.chains.flat();
    run = await runCli(['run', '-c', configPath], {
      env: {
        GEMINI_API_KEY: GEMINI_KEY,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        BRAINTRUST_API_KEY: BRAINTRUST_KEY,
        BRAINTRUST_PROJECT: 'sync-lanes-test',
        BRAINTRUST_APP_URL: braintrust.url,
      },
    });
    ledger = emulator.ledger.entries();
    spans = receiver.spans().filter((span) => span.name === 'generate_content gemini-2.5-flash');
    logged = braintrust.spans().filter((span) => span.span_attributes?.type === 'llm');
    const service = WorkloadService.open(await loadConfig(configPath, {}));
    try {
      attempts = await service.events({ kind: 'attempt' });
    } finally {
      await service.close();
    }
  });

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
    await braintrust.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('finishes on Flex, with faults met along the way', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(ledger.length).toBeGreaterThan(ids.length);
    for (const entry of ledger) expect(entry.lane).toBe('flex');
    expect(ledger.some((entry) => entry.outcome !== 'ok')).toBe(true);
    expect(attempts.some((event) => event.cause !== null)).toBe(true);
  });

  it('logs every billed call in the inference log, with the billed tokens and cost', () => {
    const billed = perRecord(ledger, (e) => ({
      id: catalogRecordOf(e),
      input: e.inputTokens,
      output: e.outputTokens,
      cost: e.costUsd,
    }));
    const inLog = perRecord(
      attempts.filter((event) => event.inputTokens > 0 || event.outputTokens > 0),
      (e) => ({ id: e.recordId ?? '', input: e.inputTokens, output: e.outputTokens, cost: e.costUsd ?? 0 }),
    );
    expect([...inLog.keys()].sort()).toEqual([...billed.keys()].sort());
    expect([...billed.keys()].sort()).toEqual([...ids].sort());
    for (const [id, sum] of billed) {
      const log = inLog.get(id);
      expect(log?.input, id).toBe(sum.input);
      expect(log?.output, id).toBe(sum.output);
      expect(log?.cost, id).toBeCloseTo(sum.cost, 12);
    }
    for (const event of attempts) expect(event.lane).toBe('flex');
  });

  it('exports a span per logged attempt with the GenAI attributes, adding up to the ledger', () => {
    expect(spans).toHaveLength(attempts.length);
    const exported = perRecord(spans, (s) => ({
      id: String(s.attributes['wavebatch.record.id']),
      input: Number(s.attributes['gen_ai.usage.input_tokens']),
      output: Number(s.attributes['gen_ai.usage.output_tokens']),
      cost: Number(s.attributes['wavebatch.cost.usd'] ?? 0),
    }));
    for (const id of ids) {
      const bills = ledger.filter((entry) => catalogRecordOf(entry) === id);
      expect(exported.get(id)?.input, id).toBe(billed(bills).all.inputTokens);
      expect(exported.get(id)?.output, id).toBe(billed(bills).all.outputTokens);
    }
    for (const span of spans) {
      expect(span.kind).toBe(3); // CLIENT
      expect(span.attributes).toMatchObject({
        'gen_ai.operation.name': 'generate_content',
        'gen_ai.provider.name': 'gcp.gemini',
        'gen_ai.request.model': 'gemini-2.5-flash',
        'wavebatch.lane': 'flex',
      });
      expect(span.attributes['wavebatch.job.name']).toBeUndefined();
    }
    const failed = spans.filter((span) => span.attributes['error.type'] !== undefined);
    expect(failed.length).toBeGreaterThan(0);
    for (const span of failed) expect(span.status?.code).toBe(2); // ERROR
    // Without a batch job, an attempt's parent is the run.
    const runSpan = receiver.spans().find((span) => span.name === 'wavebatch run');
    for (const span of spans) expect(span.parentSpanId).toBe(runSpan?.spanId);
  });

  it('logs each attempt to Braintrust with its lane, tokens and cost', () => {
    expect(logged).toHaveLength(attempts.length);
    const sent = perRecord(logged, (row) => ({
      id: String(row.metadata?.record_id),
      input: row.metrics?.prompt_tokens ?? 0,
      output: row.metrics?.completion_tokens ?? 0,
      cost: row.metrics?.cost_usd ?? 0,
    }));
    for (const id of ids) {
      const bills = ledger.filter((entry) => catalogRecordOf(entry) === id);
      expect(sent.get(id)?.input, id).toBe(billed(bills).all.inputTokens);
      expect(sent.get(id)?.output, id).toBe(billed(bills).all.outputTokens);
      expect(sent.get(id)?.cost, id).toBeCloseTo(billed(bills).all.costUsd, 12);
    }
    for (const row of logged) expect(row.metadata).toMatchObject({ lane: 'flex', prompt_version: 'v1' });
  });

  it('writes the API keys nowhere: not in output, files, spans or Braintrust rows', () => {
    for (const key of [GEMINI_KEY, BRAINTRUST_KEY]) {
      expect(run.stdout).not.toContain(key);
      expect(run.stderr).not.toContain(key);
      for (const file of filesUnder(root)) expect(readFileSync(file).includes(key), file).toBe(false);
      for (const bodies of receiver.bodies.values())
        for (const body of bodies) expect(body).not.toContain(key);
      for (const body of braintrust.bodies) expect(body).not.toContain(key);
    }
  });
});
