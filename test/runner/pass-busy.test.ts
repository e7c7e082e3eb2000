import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { billsPerRecord } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { lockHolder } from '../fixtures/store-lock.js';
import { emulatorSandbox } from '../emulator/harness.js';

const TIME_SCALE = 60;

// A busy store (STORE_BUSY: another process held the write lock past the busy timeout) met by the
// dispatch round's writes ended the run, where the pass's lease renewal is put off.
describe('a pass whose store writes meet a busy store', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  let holder: ChildProcess | undefined;
  afterEach(() => {
    holder?.kill();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('is put off, and the run goes on once the lock is let go, each record billed once', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: TIME_SCALE, seed: 5, turnaroundMs: 120_000 });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 1,
      sink: 'files',
      // A job per record: the round writes the next job's intent after the first is submitted.
      execution: { mode: 'batch', poll_interval: '30s', max_requests_per_job: 1 },
    });
    root = workload.root;
    const path = join(root, 'state', 'state.db');
    await new SqliteStore({ path }).close();
    const other = await lockHolder(path);
    holder = other.child;
    const putOff: string[] = [];
    let locked = false;
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(40_000),
      onEvent: (event) => {
        if (event.type === 'job-submitted' && !locked) {
          locked = true;
          other.lock();
        }
        if (event.type === 'warning' && event.message.includes('The pass is put off')) {
          putOff.push(event.message);
          other.release();
        }
      },
    });
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 3, dead: 0, total: 3 });
    expect(putOff).toHaveLength(1);
    expect(putOff[0]).toContain('The pass could not write to the state store');
    expect(putOff[0]).toContain(`Another process kept the state store ${path} locked for writing`);
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1]);
  }, 60_000);
});
