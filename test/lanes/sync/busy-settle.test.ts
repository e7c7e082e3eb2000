import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Responder } from '../../../src/emulator/index.js';
import { StoreError } from '../../../src/store/errors.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { storeLockedElsewhere } from '../../fixtures/store-lock.js';
import { emulatorSandbox } from '../../emulator/harness.js';

// A bought answer whose settle met a store another process kept locked past its busy timeout
// (STORE_BUSY) gave its record back: the answer was lost, and the record sent and billed again.
describe('a synchronous answer whose settle a busy store refuses', () => {
  const sandbox = emulatorSandbox();

  /**
   * One record on the standard lane, its store locked by another process from its request's arrival
   * (the busy timeout, 5 s, is real; `timeScale` emulated seconds a real one).
   */
  async function lockedAtArrival(timeScale = 1, answer?: ReturnType<Responder>, maxRetries = 2) {
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { mode: 'realtime', poll_interval: '24h', sync_concurrency: 1, max_retries: maxRetries },
    });
    sandbox.removeAfterTest(workload.root);
    const path = join(workload.root, 'state', 'state.db');
    const other = await storeLockedElsewhere(path);
    let lockAtArrival = true;
    const emulator = await sandbox.startEmulator({
      timeScale,
      tiers: { standard: { latencyMs: 100 } },
      responder: () => {
        if (lockAtArrival) other.lock();
        lockAtArrival = false;
        return answer;
      },
    });
    return { emulator, workload, path, other };
  }

  it('is kept and settled again once the store takes writes: its record is done, billed once, its claim held meanwhile', async () => {
    const { emulator, workload, path, other } = await lockedAtArrival();
    const warnings: string[] = [];
    const whileLocked: unknown[] = [];
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, 1),
      onEvent: (event) => {
        if (event.type !== 'warning') return;
        warnings.push(event.message);
        if (!event.message.includes('[STORE_BUSY]') || whileLocked.length > 0) return;
        // The first refusal, whatever met it: the record's state then (a reader is not locked out),
        // and the lock goes, so a record given back would be sent again.
        const reader = new Database(path, { readonly: true });
        whileLocked.push(...reader.prepare('SELECT status, request_id AS requestId FROM records').all());
        reader.close();
        other.release();
      },
    });
    try {
      const summary = await session.runner.run(AbortSignal.timeout(30_000));
      expect(summary.finished).toBe(true);
      expect(summary.counts).toMatchObject({ done: 1, in_flight: 0, ready: 0 });
    } finally {
      await session.close();
    }
    // Its claim was held while its answer waited: the record stayed in its request.
    expect(whileLocked).toEqual([{ status: 'in_flight', requestId: expect.any(String) }]);
    // The outside observer: one call bought the answer, and it was applied without a second.
    expect(emulator.ledger.entries()).toHaveLength(1);
    const [id] = workload.chains.flat();
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^The answer for ${id} could not be settled yet: \\[STORE_BUSY\\] .*; it is kept and settled again in 1 s\\.$`,
        ),
      ),
    ]);
    const store = new SqliteStore({ path });
    try {
      expect(await store.listFailures()).toEqual([]);
    } finally {
      await store.close();
    }
  }, 30_000);

  it('stops the run with STORE_BUSY once the lease cannot outlast another try, the answer bought once and never sent again', async () => {
    // Ten emulated seconds a real one: a try's 5 s busy wait is 50 s of the lease's 60.
    const { emulator, workload } = await lockedAtArrival(10);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, 10),
    });
    let ended: unknown;
    try {
      ended = await session.runner.run(AbortSignal.timeout(60_000)).catch((error: unknown) => error);
    } finally {
      await session.close();
    }
    expect(StoreError.isInstance(ended)).toBe(true);
    expect(ended).toMatchObject({ code: 'STORE_BUSY' });
    const [id] = workload.chains.flat();
    expect((ended as Error).message).toMatch(
      new RegExp(
        `^The answer for ${id} could not be settled: .* the run's lease on the store runs out at .*; ${id} stays in flight, and the next start sends it again\\.$`,
      ),
    );
    const warnings = events.flatMap((event) => (event.type === 'warning' ? [event.message] : []));
    expect(
      warnings.filter((message) => message.includes('given back') || message.includes('sent again later')),
    ).toEqual([]);
    // The outside observer: the answer was bought once, and the record not sent again in this run.
    expect(emulator.ledger.entries()).toHaveLength(1);
  }, 60_000);

  it('keeps a billed failure on its last attempt and files it again: dead-lettered once, never sent past max_retries', async () => {
    // An answer that is not JSON is billed and fails; with max_retries 0 its first attempt is its last.
    const notJson = { candidates: [{ content: { parts: [{ text: 'not JSON' }] }, finishReason: 'STOP' }] };
    const { emulator, workload, path, other } = await lockedAtArrival(1, { response: notJson }, 0);
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, 1),
      onEvent: (event) => {
        // The lock goes at the first refusal, so a record given back would be sent again.
        if (event.type === 'warning' && event.message.includes('[STORE_BUSY]')) other.release();
      },
    });
    try {
      const summary = await session.runner.run(AbortSignal.timeout(30_000));
      expect(summary.counts).toMatchObject({ dead: 1, in_flight: 0, ready: 0 });
    } finally {
      await session.close();
    }
    // The outside observer: one call, none beyond max_retries + 1.
    expect(emulator.ledger.entries()).toHaveLength(1);
    const store = new SqliteStore({ path });
    try {
      // The failure filed once, its attempt in the log with the one billed request.
      expect(await store.listFailures()).toHaveLength(1);
      const attempts = await store.listEvents({ kind: 'attempt' });
      expect(attempts.map((event) => event.requests)).toEqual([1]);
    } finally {
      await store.close();
    }
  }, 30_000);
});
