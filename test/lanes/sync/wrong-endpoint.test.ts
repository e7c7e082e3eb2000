import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

// A synchronous lane asked for a model the API does not have: every request meets the same 404.
// That is the configuration's fault, not the records': none may be dead-lettered; the run stops
// and says why.
describe('a flex run with a wrong model name', () => {
  const sandbox = emulatorSandbox();

  it('stops with MODEL_NOT_FOUND and leaves every record ready', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: 3_000 });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 2,
      execution: { mode: 'flex', max_retries: 0 },
    });
    sandbox.removeAfterTest(workload.root);
    const yaml = readFileSync(workload.configPath, 'utf8');
    writeFileSync(workload.configPath, yaml.replace('name: gemini-2.5-flash', 'name: gemini-0-missing'));
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, 3_000),
    });
    const stopped = await session.runner.run().catch((error: unknown) => error);
    const counts = await session.store.counts();
    await session.close();
    expect(stopped).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(counts).toMatchObject({ dead: 0, in_flight: 0, ready: 3, blocked: 3 });
    expect(emulator.ledger.entries()).toHaveLength(0);
  });
});
