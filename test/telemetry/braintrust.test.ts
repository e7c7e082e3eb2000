import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { BRAINTRUST_TIMEOUT_MS } from '../../src/telemetry/braintrust.js';
import { BIN } from '../fixtures/cli.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { startFakeBraintrust, type FakeBraintrust } from '../fixtures/fake-braintrust.js';
import { useSilentServer } from '../fixtures/silent-server.js';

const GEMINI_KEY = 'bt-test-gemini-key-93c1d7';
const BRAINTRUST_KEY = 'bt-test-braintrust-key-5e2a80';

interface TimedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the run's closing summary on stdout to the process's exit. */
  exitLagMs: number;
}

/** `wavebatch run` in a child process, timing how long it takes to exit after printing its summary. */
function runTimed(configPath: string, env: Record<string, string>): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '-c', configPath], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let summaryAt = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!summaryAt && stdout.includes('records:')) summaryAt = performance.now();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, exitLagMs: performance.now() - summaryAt }));
  });
}

describe('Braintrust logging', () => {
  let emulator: RunningEmulator;
  let braintrust: FakeBraintrust;
  const roots: string[] = [];

  function workload(): { configPath: string; chains: string[][] } {
    const written = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { max_retries: 2, poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    roots.push(written.root);
    return written;
  }

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 41 });
    braintrust = await startFakeBraintrust();
  });

  afterAll(async () => {
    await emulator.close();
    await braintrust.close();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('logs each inference as an llm span with input, output, metadata, metrics and errors', async () => {
    const { configPath, chains } = workload();
    const failing = chains[1]?.[0] as string;
    emulator.setFaults({ byKey: { [failing]: ['invalid_json'] } });
    emulator.ledger.clear();
    const run = await runTimed(configPath, {
      GEMINI_API_KEY: GEMINI_KEY,
      BRAINTRUST_API_KEY: BRAINTRUST_KEY,
      BRAINTRUST_PROJECT: 'catalogs-test',
      BRAINTRUST_APP_URL: braintrust.url,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('Braintrust');
    expect(braintrust.requests).toContain('POST /api/project/register');
    expect(braintrust.tokens).toContain(`Bearer ${BRAINTRUST_KEY}`);

    const spans = braintrust.spans().filter((span) => span.span_attributes?.type === 'llm');
    const ledger = emulator.ledger.entries();
    expect(spans).toHaveLength(ledger.length);
    for (const entry of ledger) {
      const span = spans.find(
        (s) => s.metadata?.record_id === entry.key && s.metadata?.job_name === entry.batchName,
      );
      expect(span?.metadata).toMatchObject({
        chain_id: entry.key?.split('/').slice(0, 3).join('/'),
        model: 'gemini-2.5-flash',
        prompt_name: 'page',
        prompt_version: 'v1',
        lane: 'batch',
      });
      expect(span?.metrics).toMatchObject({
        prompt_tokens: entry.inputTokens,
        completion_tokens: entry.outputTokens,
        tokens: entry.inputTokens + entry.outputTokens,
      });
      expect(span?.metrics?.cost_usd).toBeCloseTo(entry.costUsd, 12);
      expect(entry.promptText).toContain((span?.input as { text: string }).text);
    }
    const failed = spans.find((s) => s.metadata?.record_id === failing && s.error);
    expect(String(failed?.error)).toContain('invalid_json');
    expect(failed?.metadata?.outcome).toBe('retry');
    const done = spans.find((s) => s.metadata?.record_id === failing && s.metadata.outcome === 'done');
    expect(done?.output).toHaveProperty('carry_over');
    for (const body of braintrust.bodies) {
      expect(body).not.toContain(GEMINI_KEY);
      expect(body).not.toContain(BRAINTRUST_KEY);
    }
  });

  describe('when the app cannot be reached', () => {
    const blackhole = useSilentServer();

    it('runs to the end, says once that logging is degraded, and exits within the bound', async () => {
      const { configPath } = workload();
      emulator.setFaults({});
      const run = await runTimed(configPath, {
        GEMINI_API_KEY: GEMINI_KEY,
        BRAINTRUST_API_KEY: BRAINTRUST_KEY,
        BRAINTRUST_PROJECT: 'catalogs-test',
        BRAINTRUST_APP_URL: blackhole.url,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('records: 4 done');
      expect(run.stderr.match(/Braintrust logging is degraded/g)).toHaveLength(1);
      expect(run.stderr).not.toContain(BRAINTRUST_KEY);
      // At exit the run waits at most BRAINTRUST_TIMEOUT_MS (2 s) for the log-in check, then exports
      // nothing (the next run logs this one): bounded, with room for a loaded machine's exit.
      expect(run.exitLagMs).toBeLessThan(BRAINTRUST_TIMEOUT_MS + 3000);
    });

    it('says once that logging is off when no project is named', async () => {
      const { configPath } = workload();
      const run = await runTimed(configPath, {
        GEMINI_API_KEY: GEMINI_KEY,
        BRAINTRUST_API_KEY: BRAINTRUST_KEY,
      });
      expect(run.code).toBe(0);
      expect(run.stderr.match(/Braintrust logging is off: set BRAINTRUST_PROJECT/g)).toHaveLength(1);
    });
  });
});
