import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  openWorkloadSession,
  RunLockedError,
  runWorkload,
  startEmulator,
  type RunningEmulator,
} from '../../src/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

// A program can refuse itself: a second run of a workload while its first runs, or a run after a
// session left open. The error told it to wait for "another wavebatch process", naming its own pid.
describe('a workload run twice at once by one program', () => {
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 13 });
  });
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator.close();
  });

  it('refuses the second with RUN_LOCKED saying this process holds it, and runs once the first is closed', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 1 });
    sandbox.removeAfterTest(workload.root);
    const config = await emulatedConfig(workload.configPath, emulator);
    const session = await openWorkloadSession(config);
    const refused = await runWorkload(config).catch((error: unknown) => error);
    await session.close();
    expect(refused).toBeInstanceOf(RunLockedError);
    expect((refused as RunLockedError).message).toMatch(
      /^This process already holds this workload's state store: `run` \(pid \d+ on .+\)\. Another run or session of the workload in this program has not ended/,
    );
    expect((refused as Error).message).not.toContain('Another wavebatch process');
    expect(emulator.ledger.entries()).toEqual([]);

    // Which of the two takes the lease first is not fixed: one runs, the other is refused.
    const settled = await Promise.allSettled([runWorkload(config), runWorkload(config)]);
    const finished = settled.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value.outcome] : [],
    );
    const locked = settled.flatMap((result) =>
      result.status === 'rejected' ? [(result.reason as RunLockedError).code] : [],
    );
    expect([finished, locked]).toEqual([['finished'], ['RUN_LOCKED']]);
    expect(emulator.ledger.entries()).toHaveLength(2);
  });
});
