import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_000;

describe('a synchronous answer cut off mid-body', () => {
  const sandbox = emulatorSandbox();
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  // Google served (and billed) the call, then the connection reset half-way through the answer. It
  // was read as an outage that billed nothing: the record went back without an attempt, so
  // max_retries never bounded it, and the run sent it again, billed each time, until it was killed.
  it('counts an attempt for every call whose answer was cut off: max_retries bounds what it is billed', async () => {
    await expectDeadLetteredWithinRetries({ mode: 'flex', max_retries: 1, poll_interval: '30s' });
  }, 30_000);

  // An answer cut off came from a server that is there: it was counted as no answer at all, and a
  // run whose calls kept being cut off stopped with API_UNREACHABLE ("has not answered for …").
  it('does not take cut-off answers for an unreachable API: the run goes on and ends by itself', async () => {
    await expectDeadLetteredWithinRetries({
      mode: 'flex',
      max_retries: 1,
      poll_interval: '30s',
      give_up_after: '1m',
    });
  }, 30_000);

  /** Runs one record whose every answer is cut off: dead-lettered once, its bills within its tries. */
  async function expectDeadLetteredWithinRetries(execution: Record<string, number | string>): Promise<void> {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      faults: { http: [{ kind: 'reset_mid_body', match: 'generate' }] },
    });
    const workload = writeCatalogWorkload({ books: 1, pages: 1, execution });
    root = workload.root;
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      signal: AbortSignal.timeout(20_000),
    });

    expect(summary.finished, 'the run finished by itself').toBe(true);
    expect(summary.counts).toMatchObject({ done: 0, dead: 1 });
    // Two attempts (max_retries 1) of at most 8 tries each, every one served and billed.
    expect(emulator.ledger.entries().length).toBeLessThanOrEqual(16);
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    await store.close();
    expect(failures.filter((failure) => failure.final)).toHaveLength(1);
  }
});
