import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { openWorkloadSession, runWorkload } from '../../src/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { FAST_RETRY } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

// openWorkloadSession takes a config file path as runWorkload does (it threw "Cannot read
// properties of undefined (reading 'name')" on one), loading it as loadConfig does.
describe('openWorkloadSession given a config path', () => {
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 3 });
    vi.stubEnv('GEMINI_API_KEY', 'session-path-key');
  });
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    vi.unstubAllEnvs();
    await emulator.close();
  });

  it('loads the file (the API key from the environment) and runs the workload', async () => {
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 2,
      execution: { poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}\n`,
    });
    sandbox.removeAfterTest(workload.root);
    const session = await openWorkloadSession(workload.configPath, { retryPolicy: FAST_RETRY });
    try {
      const summary = await session.runner.run();
      expect(summary.counts).toMatchObject({ done: 4, total: 4 });
    } finally {
      await session.close();
    }
    const keys = emulator.ledger.entries().map((entry) => entry.key);
    expect(keys.sort()).toEqual(workload.chains.flat().sort());
  });

  it('runWorkload, which opens its session the same way, still runs a path to the end', async () => {
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 2,
      execution: { poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}\n`,
    });
    sandbox.removeAfterTest(workload.root);
    const summary = await runWorkload(workload.configPath, { retryPolicy: FAST_RETRY });
    expect(summary.counts).toMatchObject({ done: 2, total: 2 });
  });

  it('refuses a path that holds no config with CONFIG_NOT_FOUND naming it', async () => {
    const missing = join(tmpdir(), 'wb-no-such-workload', 'wavebatch.yaml');
    await expect(openWorkloadSession(missing)).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: expect.stringContaining('wavebatch.yaml') as unknown,
    });
  });
});
