import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { billedTimes } from '../fixtures/remote-jobs.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

describe('a chain heals itself', () => {
  let emulator: RunningEmulator | undefined;

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  it('an output deleted mid-run is regenerated; its successor waits instead of dying', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 3 });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const [first, second, third] = workload.chains[0] as [string, string, string];
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 30_000, seed: 23 });
    let deleted = false;
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      onEvent: (event) => {
        // The user (or a cleanup job) deletes page 1's output right after it was written.
        if (event.type === 'record-done' && event.recordId === first && !deleted) {
          rmSync(join(root, 'out', `${first}.json`));
          deleted = true;
        }
      },
    });
    const summary = await session.runner.run(AbortSignal.timeout(15_000));
    const failures = await session.store.listFailures();
    await session.close();

    expect(deleted).toBe(true);
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 3, dead: 0, total: 3 });
    expect(failures.filter((f) => f.recordId === second)).toEqual([]);
    for (const id of [first, second, third]) expect(existsSync(join(root, 'out', `${id}.json`))).toBe(true);
    // Page 1 was billed again (its output was gone); every other page once.
    const billed = billedTimes(emulator);
    expect(billed.get(first)).toBe(2);
    expect(billed.get(second)).toBe(1);
    expect(billed.get(third)).toBe(1);
  });
});
