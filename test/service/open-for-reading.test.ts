import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, WorkloadService } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatorSandbox } from '../emulator/harness.js';

// A look at a workload (the CLI's status, log, runs…, later the REST API) must leave no trace:
// opening the service opened its store, which created <data_dir>/state.db on a workload never run.
describe('WorkloadService.openForReading', () => {
  const sandbox = emulatorSandbox();

  it('serves a workload that never ran from an empty store in memory, creating nothing', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 2 });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { service, neverRun } = WorkloadService.openForReading(await loadConfig(workload.configPath));
    try {
      expect(neverRun).toBe(true);
      expect((await service.status()).records.total).toBe(0);
      expect(await service.runs()).toEqual([]);
    } finally {
      await service.close();
    }
    expect(existsSync(join(root, 'state'))).toBe(false);
  });

  it('opens the store of a workload that has run', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 2 });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const config = await loadConfig(workload.configPath);
    // The store as a run leaves it: one run started.
    const made = new SqliteStore({ path: join(root, 'state', 'state.db') });
    await made.startRun('batch');
    await made.close();
    const { service, neverRun } = WorkloadService.openForReading(config);
    try {
      expect(neverRun).toBe(false);
      expect(await service.runs()).toHaveLength(1);
    } finally {
      await service.close();
    }
  });
});
