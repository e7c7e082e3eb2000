import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmulatorOptions, RunningEmulator } from '../../../src/emulator/index.js';
import type { StopOptions } from '../../../src/runner/batch-runner.js';
import type { RunnerEvent } from '../../../src/runner/events.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { emulatorClock, patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

// 100 emulated ms per real ms: a Flex answer of 20 s takes 200 real ms, the default grace of 60 s 600.
const TIME_SCALE = 100;

/** Four chains of three pages on Flex, four requests in the air at once; `execution` adds config keys. */
function flexCatalog(execution: Record<string, unknown> = {}) {
  return writeCatalogWorkload({
    books: 4,
    pages: 3,
    execution: { mode: 'flex', sync_concurrency: 4, poll_interval: '1m', give_up_after: '7d', ...execution },
  });
}

// A graceful stop abandoned the Flex requests in the air: Google finished and billed them, and the
// next run sent them again (12 records, 16 bills). Now their answers are waited for and applied.
describe('a Flex run whose signal aborts while requests are in the air', () => {
  const sandbox = emulatorSandbox();

  /** An emulator whose Flex answers take `latencyMs` (emulated); `arrived` is told of every call as it arrives. */
  async function flexEmulator(
    latencyMs: number,
    arrived: (count: number) => void,
    refuseFirst = false,
  ): Promise<RunningEmulator> {
    let count = 0;
    const options: EmulatorOptions = {
      timeScale: TIME_SCALE,
      tiers: { flex: { latencyMs } },
      responder: () => {
        count += 1;
        arrived(count);
        // A passing failure, answered at once: that record's request waits to be retried.
        if (refuseFirst && count === 1)
          return { error: { code: 503, status: 'UNAVAILABLE', message: 'overloaded (test)' } };
        return undefined;
      },
    };
    return sandbox.startEmulator(options);
  }

  /** One run (or run-once) of the workload on the emulator's clock, stopped by `signal`. */
  async function runStopped(
    configPath: string,
    emulator: RunningEmulator,
    signal: AbortSignal | undefined,
    options: StopOptions & { once?: boolean; onEvent?: (event: RunnerEvent) => void } = {},
  ) {
    const { session } = await openEmulatedSession(configPath, emulator, {
      clock: emulatorClock(emulator, TIME_SCALE),
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      // An hour between tries (36 real seconds at most): a wait the stop must not sit out.
      syncRetryPolicy: { maxAttempts: 3, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    try {
      const started = Date.now();
      const summary = options.once
        ? await session.runner.runOnce(signal, options)
        : await session.runner.run(signal, options);
      return { summary, realMs: Date.now() - started };
    } finally {
      await session.close();
    }
  }

  it('applies the answers of the four in the air, ends interrupted, and the next run bills each record once', async () => {
    const stop = new AbortController();
    // The four first pages are all in the air when the fourth arrives.
    const emulator = await flexEmulator(20_000, (count) => count === 4 && stop.abort());
    const workload = flexCatalog();
    sandbox.removeAfterTest(workload.root);

    const first = await runStopped(workload.configPath, emulator, stop.signal);
    expect(first.summary).toMatchObject({ outcome: 'interrupted', finished: false });
    // Their answers were applied: done, their successors ready; nothing new was sent meanwhile.
    expect(first.summary.counts).toMatchObject({ done: 4, ready: 4, in_flight: 0 });
    expect(emulator.ledger.entries()).toHaveLength(4);

    const second = await runStopped(workload.configPath, emulator, undefined);
    expect(second.summary).toMatchObject({ outcome: 'finished', counts: { done: 12, total: 12 } });
    const ids = workload.chains.flat();
    expect([...billsPerRecord(emulator.ledger.entries()).entries()].sort()).toEqual(
      ids.map((id) => [id, 1]).sort(),
    );
  }, 60_000);

  it('run-once: applies the answers in the air and ends interrupted', async () => {
    const stop = new AbortController();
    const emulator = await flexEmulator(20_000, (count) => count === 4 && stop.abort());
    const workload = flexCatalog();
    sandbox.removeAfterTest(workload.root);

    const once = await runStopped(workload.configPath, emulator, stop.signal, { once: true });
    expect(once.summary).toMatchObject({ outcome: 'interrupted', finished: false });
    expect(once.summary.counts).toMatchObject({ done: 4, in_flight: 0 });
    expect(emulator.ledger.entries()).toHaveLength(4);
  }, 60_000);

  it('abandons a request not answered within the grace: the run ends after the grace, its records released', async () => {
    const stop = new AbortController();
    // 30 emulated minutes (18 real seconds): no answer comes within a grace of 5 emulated minutes.
    const emulator = await flexEmulator(30 * 60_000, (count) => count === 4 && stop.abort());
    const workload = flexCatalog();
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const graceMs = 5 * 60_000;

    const stopped = await runStopped(workload.configPath, emulator, stop.signal, { stopGraceMs: graceMs });
    expect(stopped.summary).toMatchObject({ outcome: 'interrupted', finished: false });
    expect(stopped.summary.counts).toMatchObject({ done: 0, ready: 4, in_flight: 0 });
    // The grace (3 real seconds) was waited, and not much more: not the 18 s an answer takes.
    expect(stopped.realMs).toBeGreaterThanOrEqual(graceMs / TIME_SCALE);
    expect(stopped.realMs).toBeLessThan(graceMs / TIME_SCALE + 2_000);
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    try {
      // Released, not failed: an abandoned request is not the record's fault.
      expect(await store.listFailures()).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('execution.stop_grace: 0 abandons the requests in the air at once, their records released', async () => {
    const stop = new AbortController();
    // Answers in 20 emulated s: the default grace (60 s) would wait for them and apply them.
    const emulator = await flexEmulator(20_000, (count) => count === 4 && stop.abort());
    const workload = flexCatalog({ stop_grace: 0 });
    sandbox.removeAfterTest(workload.root);

    const stopped = await runStopped(workload.configPath, emulator, stop.signal);
    expect(stopped.summary).toMatchObject({ outcome: 'interrupted', finished: false });
    expect(stopped.summary.counts).toMatchObject({ done: 0, ready: 4, in_flight: 0 });
  }, 60_000);

  it('execution.stop_grace sets the grace, and the library option wins over it', async () => {
    const stop = new AbortController();
    const emulator = await flexEmulator(30 * 60_000, (count) => count === 4 && stop.abort());
    const workload = flexCatalog({ stop_grace: '5m' });
    sandbox.removeAfterTest(workload.root);

    const stopped = await runStopped(workload.configPath, emulator, stop.signal);
    expect(stopped.summary.counts).toMatchObject({ done: 0, ready: 4, in_flight: 0 });
    // The configured 5 emulated minutes (3 real s) were waited, not the default 60 s (0.6 real s).
    expect(stopped.realMs).toBeGreaterThanOrEqual(3_000);
    expect(stopped.realMs).toBeLessThan(5_000);

    const again = new AbortController();
    const second = await flexEmulator(30 * 60_000, (count) => count === 4 && again.abort());
    const overridden = await runStopped(workload.configPath, second, again.signal, { stopGraceMs: 0 });
    expect(overridden.summary.counts).toMatchObject({ done: 0, ready: 4, in_flight: 0 });
    expect(overridden.realMs).toBeLessThan(2_000);
  }, 60_000);

  it('releases at once a record waiting to be retried, and applies the answers in the air', async () => {
    const stop = new AbortController();
    // Stopped once the refused request waits for its next try and the other three are in the air,
    // whichever comes last (on a loaded machine the retry came before the fourth call arrived).
    let retrying = false;
    let arrivals = 0;
    const stopWhenReady = () => retrying && arrivals >= 4 && stop.abort();
    const emulator = await flexEmulator(
      20_000,
      (count) => {
        arrivals = count;
        stopWhenReady();
      },
      true,
    );
    const workload = flexCatalog();
    sandbox.removeAfterTest(workload.root);

    const stopped = await runStopped(workload.configPath, emulator, stop.signal, {
      stopGraceMs: 10 * 60_000,
      onEvent: (event) => {
        if (event.type !== 'retry') return;
        retrying = true;
        stopWhenReady();
      },
    });
    expect(stopped.summary).toMatchObject({ outcome: 'interrupted' });
    expect(stopped.summary.counts).toMatchObject({ done: 3, ready: 4, in_flight: 0 });
    expect(emulator.ledger.entries()).toHaveLength(3);
    // Not held for its retry (up to 36 real s) nor for the grace (6 real s): over with the answers (0.2 s).
    expect(stopped.realMs).toBeLessThan(2_000);
  }, 60_000);

  it('stops at once when stopNow aborts during the grace', async () => {
    const stop = new AbortController();
    const now = new AbortController();
    const emulator = await flexEmulator(30 * 60_000, (count) => {
      if (count !== 4) return;
      stop.abort();
      // A second stop 50 real ms later, well within the default grace of 600.
      setTimeout(() => now.abort(), 50);
    });
    const workload = flexCatalog();
    sandbox.removeAfterTest(workload.root);

    const stopped = await runStopped(workload.configPath, emulator, stop.signal, { stopNow: now.signal });
    expect(stopped.summary).toMatchObject({ outcome: 'interrupted' });
    expect(stopped.summary.counts).toMatchObject({ done: 0, ready: 4, in_flight: 0 });
    expect(stopped.realMs).toBeLessThan(60_000 / TIME_SCALE);
  }, 60_000);
});
