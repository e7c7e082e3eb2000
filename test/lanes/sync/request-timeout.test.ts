import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, SYNC_RETRY } from '../../../src/lanes/sync/sync-executor.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { billed } from '../../fixtures/billed-figures.js';

// 20,000 emulated ms per real ms: Flex's 20-minute request timeout is 60 real ms.
const TIME_SCALE = 20_000;

describe('a synchronous request that never answers within its timeout', () => {
  const sandbox = emulatorSandbox();

  it('counts an attempt (Google may bill what it gave up on), so max_retries bounds the bill and the run ends', async () => {
    // Flex answers after 30 minutes, past its 20-minute timeout: every call is given up on, and the
    // emulator bills each one when it is done, as Google finishes (and bills) what it started.
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      tiers: { flex: { latencyMs: 30 * 60_000 } },
    });
    expect(30 * 60_000).toBeGreaterThan(DEFAULT_REQUEST_TIMEOUT_MS.flex);
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { mode: 'flex', max_retries: 1, poll_interval: '1m', give_up_after: '7d' },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });

    // The record is dead-lettered after max_retries + 1 attempts, each of at most SYNC_RETRY's tries.
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 0, dead: 1 });
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    await store.close();
    // Two attempts failed; each call given up is on file too, as a try of its own.
    expect(failures.filter((failure) => failure.cause !== 'timeout').length).toBe(2);
    expect(failures[0]?.message).toMatch(/No answer .* within 1200 s/);
    // The dead letter's message does not promise a resend that max_retries stopped.
    const final = failures.filter((failure) => failure.cause === 'api_error').at(-1);
    expect(final?.message).toMatch(/No answer .* within 1200 s; the call was given up/);
    expect(final?.message).not.toMatch(/sent again/);
    // Wait for the answers still being worked on, then read the outside observer: the bill is bounded.
    await new Promise((resolve) => setTimeout(resolve, (30 * 60_000) / TIME_SCALE + 200));
    const billed = emulator.ledger.entries().length;
    expect(billed).toBeGreaterThan(0);
    expect(billed).toBeLessThanOrEqual(2 * SYNC_RETRY.maxAttempts);
  }, 90_000);

  it('counts each call given up at the timeout against max_cost: the bill stays within the cap', async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      tiers: { flex: { latencyMs: 30 * 60_000 } },
    });
    const maxCost = 0.002;
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 2,
      execution: {
        mode: 'flex',
        max_retries: 1,
        poll_interval: '1m',
        give_up_after: '7d',
        max_cost: maxCost,
      },
    });
    sandbox.removeAfterTest(workload.root);
    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
    });
    expect(summary.counts.done).toBe(0);
    // Every abandoned call is finished, and billed, 30 emulated minutes after it was sent.
    await new Promise((resolve) => setTimeout(resolve, (30 * 60_000) / TIME_SCALE + 200));
    const ledger = emulator.ledger.entries();
    expect(ledger.length).toBeGreaterThan(0);
    const billedUsd = billed(ledger).all.costUsd;
    // Within the cap's stated tolerance on estimates (it was 4 times the cap).
    expect(billedUsd, `${ledger.length} calls billed`).toBeLessThanOrEqual(maxCost * 1.15);
  }, 90_000);
});
