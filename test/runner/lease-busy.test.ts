import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunnerClock } from '../../src/clock.js';
import { StoreError } from '../../src/store/errors.js';
import { billsPerRecord } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedSleepClock, speedableRealTime } from '../fixtures/emulator-clock.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { storeLockedElsewhere } from '../fixtures/store-lock.js';
import { emulatorSandbox } from '../emulator/harness.js';

// Slow enough that the lease's minute (one real second) outlives a loaded machine's pauses between
// heartbeats: at 3,600 times it is 17 real ms.
const TIME_SCALE = 60;
const POLL_MS = 30_000;

/**
 * The emulated-sleep clock, `afterPollWait` called as the loop's wait between passes ends, once
 * armed (a job submitted): the next step is a pass renewing the lease.
 */
function passClock(base: RunnerClock, afterPollWait: () => void): { clock: RunnerClock; arm: () => void } {
  let armed = false;
  const clock: RunnerClock = {
    now: () => base.now(),
    sleep: async (ms, signal) => {
      await base.sleep(ms, signal);
      if (ms === POLL_MS && armed) {
        armed = false;
        afterPollWait();
      }
    },
  };
  return { clock, arm: () => void (armed = true) };
}

// The lease renewal that starts each pass let a busy store (STORE_BUSY: another process held the
// write lock past the busy timeout) end the run, where the lanes put off what meets one.
describe('a pass whose lease renewal meets a busy store', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function start() {
    const time = speedableRealTime();
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 5,
      realNow: time.now,
      turnaroundMs: 120_000,
    });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 1,
      sink: 'files',
      execution: { mode: 'batch', poll_interval: '30s' },
    });
    root = workload.root;
    const path = join(root, 'state', 'state.db');
    const other = await storeLockedElsewhere(path);
    return { time, emulator, workload, path, other };
  }

  it('is put off while the lease holds, and the run goes on and ends once the lock is let go', async () => {
    const { time, emulator, workload, path, other } = await start();
    const warnings: string[] = [];
    // Emulated time stands still while the lock is held, the lease's life left as it was; it first
    // moves 6 s on, so the lease's last renewal (its heartbeat may have come just now) is over the
    // 5 s within which a renewal writes nothing, and the pass's renewal meets the lock.
    const { clock, arm } = passClock(emulatedSleepClock(emulator, TIME_SCALE), () => {
      time.speedUp(0);
      other.lock();
      time.skip(6_000 / TIME_SCALE);
    });
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      clock,
      signal: AbortSignal.timeout(40_000),
      onEvent: (event) => {
        if (event.type === 'job-submitted') arm();
        if (event.type === 'warning') {
          warnings.push(event.message);
          if (event.message.includes('The pass is put off')) {
            other.release();
            time.speedUp(1);
          }
        }
      },
    });
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 2, dead: 0, total: 2 });
    const putOff = warnings.filter((message) => message.includes('The pass is put off'));
    expect(putOff).toHaveLength(1);
    expect(putOff[0]).toContain(`Another process kept the state store ${path} locked for writing`);
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1]);
  }, 60_000);

  it('stops the run with STORE_BUSY, saying so, before the lease could run out and another process take the store over', async () => {
    const { time, emulator, workload, path, other } = await start();
    // Emulated time runs on: the busy timeout's 5 real seconds are 5 emulated minutes, past the
    // lease's one. It moves 6 s on first, for the pass's renewal to write (see above).
    const { clock, arm } = passClock(emulatedSleepClock(emulator, TIME_SCALE), () => {
      other.lock();
      time.skip(6_000 / TIME_SCALE);
    });
    const ended = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      clock,
      signal: AbortSignal.timeout(40_000),
      onEvent: (event) => {
        if (event.type === 'job-submitted') arm();
      },
    })
      .catch((error: unknown) => error)
      .finally(() => other.release());
    expect(StoreError.isInstance(ended)).toBe(true);
    expect(ended).toMatchObject({ code: 'STORE_BUSY' });
    expect((ended as Error).message).toContain(
      `Another process kept the state store ${path} locked for writing`,
    );
    expect((ended as Error).message).toContain(
      'This run could not renew its lease on the store, which runs out at',
    );
  }, 60_000);
});
