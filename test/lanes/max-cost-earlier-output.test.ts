import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatorClock } from '../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

const TIME_SCALE = 3_000;

// Until a run has billed an answer, the cost cap prices each record's output at an assumed 500
// tokens. A workload's earlier runs say what its answers really cost: a run that starts under a tight
// cap should price its first round from them, not hold back what it can pay for.
describe('execution.max_cost, before the run has billed anything', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('prices the first round from the output the workload was billed in earlier runs', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 9,
      turnaroundMs: { min: 60_000, max: 120_000 },
    });
    const maxCost = 0.0013;
    const workload = writeCatalogWorkload({
      books: 80,
      pages: 1,
      execution: { mode: 'batch', poll_interval: '30s', max_cost: maxCost, max_requests_per_job: 200 },
    });
    root = workload.root;
    const firstRound = async (): Promise<{ sent: number; billedOutput: number }> => {
      const { session } = await openEmulatedSession(workload.configPath, emulator, {
        clock: emulatorClock(emulator, TIME_SCALE),
      });
      const before = emulator.ledger.entries().length;
      const once = await session.runner.runOnce();
      const sent = once.counts.in_flight;
      // The rest of the run: its jobs come back and it sends what the cap still pays for.
      await session.runner.run();
      await session.close();
      const billed = emulator.ledger.entries().slice(before);
      return {
        sent,
        billedOutput: billed.reduce((sum, entry) => sum + entry.outputTokens, 0) / billed.length,
      };
    };

    const first = await firstRound();
    const second = await firstRound();
    // The answers are far shorter than the assumption: the second run's first round, priced from
    // the first run's answers, sends several times as many records.
    expect(first.billedOutput).toBeLessThan(250);
    expect(first.sent).toBeGreaterThan(0);
    expect(second.sent).toBeGreaterThan(first.sent * 2);
  });
});
