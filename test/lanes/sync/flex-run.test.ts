import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelPrices, requestCost, GEMINI_PRICE_LIST } from '../../../src/pricing/index.js';
import { PROGRESS_INTERVAL_MS } from '../../../src/runner/batch-runner.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload, OUTPUT_SINKS } from '../../fixtures/catalog-workload.js';
import { billsPerRecord, catalogRecordOf } from '../../fixtures/catalog-ledger.js';
import { emulatorClock, patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { readOutputs } from '../../fixtures/output-reader.js';
import { openEmulatedSession, runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { billed } from '../../fixtures/billed-figures.js';

// 3,000 emulated ms per real ms: Flex's 1-15 minutes take 20-300 real ms.
const TIME_SCALE = 3_000;

describe.each(OUTPUT_SINKS)('execution.mode flex on the emulator, %s output sink', (sink) => {
  const sandbox = emulatorSandbox();

  it('finishes a chain workload through Flex, shed requests recovered, each record billed once at the Flex price', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 8,
      tiers: { flex: { latencyMs: { min: 60_000, max: 15 * 60_000 }, shedRate: 0.3 } },
    });
    const workload = writeCatalogWorkload({
      books: 4,
      pages: 3,
      sink,
      execution: { mode: 'flex', sync_concurrency: 8, poll_interval: '30s' },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      // Flex's 20 minutes are 400 real ms here, its answers up to 300: a busy machine's pause gave up
      // on an answer on its way and sent the record again, billed twice (824 input tokens, 768 counted).
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
    });

    expect(summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });
    expect(summary.jobsSubmitted).toBe(0);
    const ledger = emulator.ledger.entries();
    // The summary's tokens are what was billed on Flex (there were no batch jobs).
    expect(summary.inputTokens).toBe(billed(ledger).all.inputTokens);
    expect(summary.outputTokens).toBe(billed(ledger).all.outputTokens);
    const ids = workload.chains.flat();
    // Each record billed exactly once: shed requests are refused before any work, so never billed.
    expect([...billsPerRecord(ledger).entries()].sort()).toEqual(ids.map((id) => [id, 1]).sort());
    const flex = modelPrices(GEMINI_PRICE_LIST, 'gemini-2.5-flash')?.flex;
    if (!flex) throw new Error('no flex price');
    for (const entry of ledger) {
      expect(entry.lane).toBe('flex');
      expect(entry.mode).toBe('realtime');
      expect(entry.costUsd).toBeCloseTo(requestCost(flex, entry), 12);
    }
    // Shed requests were seen and sent again.
    expect(
      events.some((event) => event.type === 'retry' && /high demand|UNAVAILABLE/i.test(event.message)),
    ).toBe(true);
    // Settle events name the lane and the synchronous request.
    const done = events.filter((event) => event.type === 'record-done');
    expect(done).toHaveLength(12);
    for (const event of done)
      expect(event).toMatchObject({ lane: 'flex', jobId: null, requestId: expect.any(String) });

    // Chains in order: each page prompted with its predecessor's output, billed after it was answered.
    const outputs = readOutputs(join(root, 'out'), sink);
    for (const chain of workload.chains) {
      for (let index = 1; index < chain.length; index++) {
        const previous = outputs.get(chain[index - 1] as string);
        const entry = ledger.find((e) => catalogRecordOf(e) === chain[index]);
        expect(entry?.promptText).toContain(previous?.output.carry_over);
      }
    }
    // Outputs say which lane and request made them.
    const first = outputs.get(ids[0] as string);
    expect(first?.meta).toMatchObject({ lane: 'flex', job: expect.stringMatching(/^sync-/) });

    // The inference log prices the run as the ledger bills it.
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const attempts = await store.listEvents({ kind: 'attempt' });
    await store.close();
    expect(attempts.every((event) => event.lane === 'flex')).toBe(true);
    const logged = attempts.reduce((sum, event) => sum + (event.costUsd ?? 0), 0);
    const billedUsd = billed(ledger).all.costUsd;
    expect(logged).toBeCloseTo(billedUsd, 9);
  }, 60_000);
});

describe('a synchronous run reports progress by time, not at every answer', () => {
  const sandbox = emulatorSandbox();

  it('counts the records at most once per PROGRESS_INTERVAL_MS of its clock, and once at the end', async () => {
    // Real time, answers in 5-40 ms: the loop passes at every one of 80 answers.
    const emulator = await sandbox.startEmulator({
      seed: 4,
      tiers: { flex: { latencyMs: { min: 5, max: 40 } } },
    });
    const workload = writeCatalogWorkload({
      books: 40,
      pages: 2,
      execution: { mode: 'flex', sync_concurrency: 8, poll_interval: '30s' },
    });
    sandbox.removeAfterTest(workload.root);
    const clock = emulatorClock(emulator, 1);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, { clock });
    const started = clock.now();
    const summary = await session.runner.run();
    const elapsedMs = clock.now() - started;
    await session.close();

    expect(summary.counts).toMatchObject({ done: 80, dead: 0, total: 80 });
    expect(emulator.ledger.entries()).toHaveLength(80);
    const progress = events.filter((event) => event.type === 'progress');
    // One at the first pass, one per interval after it, one when settled.
    expect(progress.length).toBeLessThanOrEqual(Math.floor(elapsedMs / PROGRESS_INTERVAL_MS) + 2);
    expect(progress.at(-1)).toMatchObject({ counts: { done: 80, ready: 0, in_flight: 0 } });
  });
});
