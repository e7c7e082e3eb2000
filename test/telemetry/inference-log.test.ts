import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator, type LedgerEntry } from '../../src/emulator/index.js';
import type { RunSummary } from '../../src/runner/run-summary.js';
import { WorkloadService } from '../../src/service/index.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { billed } from '../fixtures/billed-figures.js';

// A run on the emulator with faults of every kind; the inference log is checked against what the
// emulator billed (its ledger), never against the store's own bookkeeping.
describe('inference log on the emulator', () => {
  let emulator: RunningEmulator;
  let root: string;
  let service: WorkloadService;
  let summary: RunSummary;
  let chains: string[][];
  let ledger: LedgerEntry[];
  let attempts: StoredEvent[];

  beforeAll(async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2, execution: { max_retries: 3 } });
    root = workload.root;
    chains = workload.chains;
    const [bookA, bookB, bookC] = chains as [string[], string[], string[]];
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 30_000,
      seed: 5,
      faults: {
        byKey: {
          [bookA[0] as string]: ['invalid_json', 'max_tokens'],
          [bookB[1] as string]: Array.from({ length: 9 }, () => 'safety' as const),
          [bookC[0] as string]: ['request_error'],
        },
        jobSequence: ['none', 'job_failed'],
      },
    });
    const { session, config } = await openEmulatedSession(workload.configPath, emulator);
    summary = await session.runner.run();
    await session.close();
    ledger = emulator.ledger.entries();
    service = WorkloadService.open(config);
    attempts = await service.events({ kind: 'attempt' });
  });

  afterAll(async () => {
    await service.close();
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('has exactly one attempt event per billed request, with the billed tokens and cost', () => {
    expect(summary.counts).toMatchObject({ done: 5, dead: 1 });
    expect(ledger.length).toBeGreaterThan(6);
    for (const entry of ledger) {
      const matching = attempts.filter((e) => e.requestId === entry.key && e.jobName === entry.batchName);
      expect(matching, `${entry.key} in ${entry.batchName}`).toHaveLength(1);
      const [event] = matching as [StoredEvent];
      expect(event).toMatchObject({
        recordId: entry.key,
        model: entry.model,
        inputTokens: entry.inputTokens,
        outputTokens: entry.outputTokens,
        lane: 'batch',
      });
      expect(event.costUsd).toBeCloseTo(entry.costUsd, 12);
    }
    // The only attempts the emulator did not bill are its per-request errors.
    const unbilled = attempts.filter(
      (e) => !ledger.some((entry) => entry.key === e.requestId && entry.batchName === e.jobName),
    );
    expect(unbilled.map((e) => e.cause)).toEqual(['api_error']);
    expect(unbilled[0]?.costUsd).toBe(0);
  });

  it('adds up: the run costs what the ledger billed', async () => {
    const billedUsd = billed(ledger).all.costUsd;
    const logged = attempts.reduce((sum, event) => sum + (event.costUsd ?? 0), 0);
    expect(logged).toBeCloseTo(billedUsd, 12);
    expect(summary.costUsd).toBeCloseTo(billedUsd, 12);
    const [run] = await service.runs();
    expect(run?.totals).toMatchObject({
      outcome: 'finished',
      // The billed requests: the per-request error row was not billed, so it counts none.
      requests: ledger.length,
      inputTokens: billed(ledger).all.inputTokens,
      outputTokens: billed(ledger).all.outputTokens,
      lanes: ['batch'],
    });
    expect(run?.totals?.costUsd).toBeCloseTo(billedUsd, 12);
    expect(run?.totals?.counts).toMatchObject({ done: 5, dead: 1 });
    expect(run?.configHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records each attempt with its record, chain, prompt, outcome and error', () => {
    const [bookA, bookB] = chains as [string[], string[]];
    const retried = attempts.filter((e) => e.recordId === bookA[0]);
    expect(retried.map((e) => [e.type, e.cause])).toEqual([
      ['retry', 'invalid_json'],
      ['retry', 'max_tokens'],
      ['done', null],
    ]);
    // Attempt numbers only grow (a FAILED job counts an attempt without answering it).
    const numbers = retried.map((e) => e.attempt ?? -1);
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
    expect(new Set(numbers).size).toBe(3);
    expect(retried[1]?.finishReason).toBe('MAX_TOKENS');
    expect(retried[0]?.raw).toBeTruthy();
    expect(retried[2]?.output).toEqual(
      JSON.parse(readFileSync(join(root, 'out', `${bookA[0]}.json`), 'utf8')).output,
    );
    const dead = attempts.filter((e) => e.recordId === bookB[1]);
    expect(dead.at(-1)?.type).toBe('dead');
    expect(dead.slice(0, -1).every((e) => e.type === 'retry')).toBe(true);
    for (const event of attempts) {
      expect(event).toMatchObject({ promptName: 'page', promptVersion: 'v1' });
      expect(event.chainId).toBe(event.recordId?.split('/').slice(0, 3).join('/'));
      expect(event.promptHash).toMatch(/^[0-9a-f]{64}$/);
      expect(event.generationConfigHash).toMatch(/^[0-9a-f]{64}$/);
      expect(event.latencyMs).toBeGreaterThanOrEqual(0);
      expect(event.runId).toBe(summary.runId);
    }
    // Page 2 received page 1's output as context; page 1 received none.
    const pageTwo = attempts.find((e) => e.recordId === bookA[1]);
    expect(pageTwo?.contextDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(attempts.find((e) => e.recordId === bookA[0])?.contextDigest).toBeNull();
  });

  it('stores each rendered prompt once, by the hash the events carry, as the model saw it', async () => {
    for (const entry of ledger) {
      const event = attempts.find((e) => e.requestId === entry.key && e.jobName === entry.batchName);
      const text = await service.text(event?.promptHash ?? '', event?.recordId);
      expect(text?.kind).toBe('prompt');
      // Without the record, the same text is found by a scan.
      expect(await service.text(event?.promptHash ?? '')).toEqual(text);
      const body = JSON.parse(text?.body ?? '{}') as { text: string };
      expect(entry.promptText).toContain(body.text);
    }
    const config = await service.text(attempts[0]?.generationConfigHash ?? '');
    expect(JSON.parse(config?.body ?? '{}')).toHaveProperty('responseJsonSchema');
  });

  it('logs every job transition, the failed job included', async () => {
    const jobs = await service.events({ kind: 'job' });
    const batches = new Set(ledger.map((entry) => entry.batchName));
    const submitted = jobs.filter((e) => e.type === 'submitted');
    for (const name of batches) expect(submitted.some((e) => e.jobName === name)).toBe(true);
    expect(submitted.length).toBe(batches.size + 1);
    expect(jobs.filter((e) => e.type === 'failed')).toHaveLength(1);
    expect(jobs.filter((e) => e.type === 'processed')).toHaveLength(batches.size);
  });

  it('writes the run report beside the state store', async () => {
    const written = readFileSync(join(root, 'state', 'report.md'), 'utf8');
    expect(written).toBe(readFileSync(join(root, 'state', 'reports', `run-${summary.runId}.md`), 'utf8'));
    expect(written).toContain('# wavebatch report: test, run');
    expect(written).toMatch(/\| done \| 5 \|/);
    const safety = attempts.filter((e) => e.cause === 'safety').length;
    expect(written).toContain(`### safety: ${safety} failures, 1 records, 1 dead-lettered`);
    expect(written).toContain('| page/v1 |');
    expect(await service.report()).toBe(written);
  });

  it("shows one record's whole history and its current output", async () => {
    const [bookA] = chains as [string[]];
    const detail = await service.record(bookA[0] as string);
    expect(detail?.events.map((e) => e.type)).toEqual(['retry', 'retry', 'done']);
    expect(detail?.output?.output).toEqual(detail?.events[2]?.output);
  });
});
