import { beforeEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../src/gemini/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { estimateWorkload } from '../../src/service/index.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig, openEmulatedSession } from '../fixtures/session.js';
import { billed } from '../fixtures/billed-figures.js';

/** The tolerance the README states for an estimate after a pilot round, calibrated. */
const TOLERANCE = 0.15;

describe('wavebatch estimate', () => {
  const sandbox = emulatorSandbox();
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await sandbox.startEmulator({
      timeScale: 3600,
      turnaroundMs: { min: 30_000, max: 120_000 },
      seed: 3,
    });
  });

  it('counts requests, chains and tokens, and prices every lane by the list', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 4 });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const config = await emulatedConfig(workload.configPath, emulator);
    const estimate = await estimateWorkload(config, { outputTokens: 100 });
    expect(estimate).toMatchObject({ records: 12, chains: 3, longestChain: 4, priceListAsOf: '2025-10-02' });
    expect(estimate.tokens.outputSource).toEqual({ kind: 'option' });
    expect(estimate.tokens.output).toBe(1200);
    // Context: 9 of the 12 records have a predecessor; without finished outputs it is sized like an output.
    expect(estimate.tokens.contextPerRequest).toBe(100);
    const { input } = estimate.tokens;
    const flash = (inputRate: number, outputRate: number) => (input * inputRate + 1200 * outputRate) / 1e6;
    expect(estimate.modes.batch.costUsd).toBeCloseTo(flash(0.15, 1.25), 12);
    expect(estimate.modes.flex.costUsd).toBeCloseTo(flash(0.15, 1.25), 12);
    expect(estimate.modes.standard.costUsd).toBeCloseTo(flash(0.3, 2.5), 12);
    expect(estimate.modes.priority.available).toBe(false);
    expect(estimate.modes.batch.rounds).toBe(4);
    expect(estimate.modes.auto.costUsd).toBeCloseTo(flash(0.15, 1.25), 12);
  });

  it('calibrates input tokens with countTokens and matches the ledger of the run within the stated tolerance', async () => {
    const workload = writeCatalogWorkload({ books: 4, pages: 5 });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const config = await emulatedConfig(workload.configPath, emulator);
    const gemini = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });

    // A pilot: one round of the run, so the estimate learns output and context sizes.
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    // The emulator runs an hour a real second: a few real milliseconds finish the first jobs.
    for (let round = 0; (await session.store.counts()).done === 0; round++) {
      if (round > 200) throw new Error('the pilot round never finished');
      await session.runner.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await session.close();
    const pilotBilled = emulator.ledger.entries().length;
    expect(pilotBilled).toBeGreaterThan(0);

    const estimate = await estimateWorkload(config, { calibrate: 20, gemini, random: () => 0.5 });
    expect(estimate.tokens.inputSource).toMatchObject({ kind: 'calibrated', samples: 20 });
    expect(estimate.tokens.outputSource).toMatchObject({ kind: 'finished' });

    const rest = await openEmulatedSession(workload.configPath, emulator);
    await rest.session.runner.run();
    await rest.session.close();
    const ledger = emulator.ledger.entries();
    // Requests: one per record, as estimated (no retries on a fault-free emulator), all on the batch lane.
    expect(ledger).toHaveLength(estimate.records);
    expect(new Set(ledger.map((entry) => entry.lane))).toEqual(new Set(['batch']));
    expect(estimate.modes.batch.recordsByLane).toEqual({ batch: estimate.records });
    const bill = billed(ledger).all;
    expect(Math.abs(estimate.tokens.input - bill.inputTokens) / bill.inputTokens).toBeLessThanOrEqual(
      TOLERANCE,
    );
    expect(Math.abs(estimate.tokens.output - bill.outputTokens) / bill.outputTokens).toBeLessThanOrEqual(
      TOLERANCE,
    );
    expect(Math.abs((estimate.modes.batch.costUsd ?? 0) - bill.costUsd) / bill.costUsd).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });

  it('matches the ledger of a Flex run within the stated tolerance, after a pilot round on Flex', async () => {
    const workload = writeCatalogWorkload({ books: 4, pages: 5, execution: { mode: 'flex' } });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const config = await emulatedConfig(workload.configPath, emulator);
    const gemini = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });

    // The pilot: one run-once sends the ready first pages on Flex and waits for their answers.
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    await session.runner.runOnce();
    await session.close();
    expect(emulator.ledger.entries()).toHaveLength(4);

    const estimate = await estimateWorkload(config, { calibrate: 20, gemini, random: () => 0.5 });
    const rest = await openEmulatedSession(workload.configPath, emulator);
    await rest.session.runner.run();
    await rest.session.close();
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(estimate.records);
    expect(new Set(ledger.map((entry) => entry.lane))).toEqual(new Set(['flex']));
    const billedUsd = billed(ledger).all.costUsd;
    expect(Math.abs((estimate.modes.flex.costUsd ?? 0) - billedUsd) / billedUsd).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });
});
