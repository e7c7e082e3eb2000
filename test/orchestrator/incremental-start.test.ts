import { appendFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { WorkloadService } from '../../src/service/index.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { useJsonlSource, writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig, openEmulatedSession } from '../fixtures/session.js';

/** Sets every file and folder under `root` to a minute ago: older than the fingerprint's settle time. */
function ageTree(root: string): void {
  const past = new Date(Date.now() - 60_000);
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true }))
    utimesSync(join(entry.parentPath, entry.name), past, past);
  utimesSync(root, past, past);
}

type SyncEvent = Extract<RunnerEvent, { type: 'sync' }>;

async function runOnce(configPath: string, emulator: RunningEmulator): Promise<SyncEvent> {
  const { session, events } = await openEmulatedSession(configPath, emulator);
  try {
    await session.runner.run();
  } finally {
    await session.close();
  }
  const sync = events.find((event): event is SyncEvent => event.type === 'sync');
  if (!sync) throw new Error('no sync event');
  return sync;
}

describe('start-up over an unchanged source', () => {
  const sandbox = emulatorSandbox();
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 9 });
  });

  it('skips reading a directory source whose folders did not change, and reads it again once a page is added', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 2 });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    ageTree(join(root, 'dataset'));
    expect(await runOnce(workload.configPath, emulator)).toMatchObject({ unchanged: false, seen: 4 });
    const billed = emulator.ledger.entries().length;

    expect(await runOnce(workload.configPath, emulator)).toMatchObject({ unchanged: true, seen: 0 });
    expect(emulator.ledger.entries()).toHaveLength(billed);

    // A new page in a leaf folder moves that folder's mtime: the source is read and the page runs.
    const leaf = join(root, 'dataset', 'ST', 'school1', '1900');
    writeFileSync(join(leaf, 'page_3.txt'), 'School 1, page 3: Hebrew 301.\n');
    const stamp = new Date(Date.now() - 30_000);
    utimesSync(join(leaf, 'page_3.txt'), stamp, stamp);
    utimesSync(leaf, stamp, stamp);
    expect(await runOnce(workload.configPath, emulator)).toMatchObject({
      unchanged: false,
      seen: 5,
      inserted: 1,
    });
    expect(
      emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .slice(billed),
    ).toEqual(['ST/school1/1900/page_3']);
  });

  it('reads a table source again when its file changes, never when only time passed', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 1 });
    sandbox.removeAfterTest(workload.root);
    // The fixture's directory source replaced by a JSON Lines table.
    const rows = useJsonlSource(workload.configPath, [{ id: 'a1', book: 'a', page: 1, school: 'A' }]);
    const past = new Date(Date.now() - 60_000);
    utimesSync(rows, past, past);
    expect(await runOnce(workload.configPath, emulator)).toMatchObject({ unchanged: false, seen: 1 });
    expect(await runOnce(workload.configPath, emulator)).toMatchObject({ unchanged: true });

    appendFileSync(rows, `${JSON.stringify({ id: 'a2', book: 'a', page: 2, school: 'A' })}\n`);
    utimesSync(rows, new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
    expect(statSync(rows).size).toBeGreaterThan(0);
    expect(await runOnce(workload.configPath, emulator)).toMatchObject({
      unchanged: false,
      seen: 2,
      inserted: 1,
    });
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual(['a1', 'a2']);
  });

  it('a dead letter requeued between runs runs at the next start, though the source did not change', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 2, execution: { max_retries: 0 } });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    ageTree(join(root, 'dataset'));
    const [first, second] = workload.chains[0] as [string, string];
    emulator.setFaults({ byKey: { [first]: ['safety'] } });
    await runOnce(workload.configPath, emulator);
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual([first]);

    emulator.setFaults({});
    const service = WorkloadService.open(await emulatedConfig(workload.configPath, emulator));
    try {
      expect(await service.requeue()).toBe(1);
    } finally {
      await service.close();
    }
    expect(await runOnce(workload.configPath, emulator)).toMatchObject({ unchanged: true });
    expect(emulator.ledger.entries().map((entry) => entry.key)).toEqual([first, first, second]);
  });
});
