import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox } from '../emulator/harness.js';
import { catalogOnEmulator } from '../fixtures/catalog-on-emulator.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../fixtures/session.js';

describe('failures on the emulator', () => {
  const sandbox = emulatorSandbox();

  it('retries per-record faults to success, dead-letters what keeps failing, and blocks its chain', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2, execution: { max_retries: 2 } });
    sandbox.removeAfterTest(workload.root);
    const [bookA, bookB, bookC] = workload.chains as [string[], string[], string[]];
    const emulator = await sandbox.startEmulator({
      timeScale: 3600,
      turnaroundMs: 30_000,
      seed: 2,
      faults: {
        byKey: {
          // Two bad answers, then a good one: retried to success.
          [bookA[0] as string]: ['invalid_json', 'max_tokens'],
          // Fails every time: dead after 1 + max_retries attempts.
          [bookB[1] as string]: ['safety', 'safety', 'safety', 'safety'],
          [bookC[0] as string]: ['request_error'],
        },
      },
    });
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run();
    const failures = await session.store.listFailures();
    const dead = await session.store.listFailures({ deadOnly: true });
    await session.close();

    expect(summary.counts).toMatchObject({ done: 5, dead: 1, total: 6 });
    expect(dead.map((f) => f.recordId)).toEqual([bookB[1]]);
    expect(dead[0]).toMatchObject({ cause: 'safety', promptName: 'page', promptVersion: 'v1' });
    expect(dead[0]?.raw).toBeTruthy();
    expect(failures.filter((f) => f.recordId === bookA[0]).map((f) => f.cause)).toEqual([
      'invalid_json',
      'max_tokens',
    ]);
    expect(failures.filter((f) => f.recordId === bookC[0]).map((f) => f.cause)).toEqual(['api_error']);
    const output = JSON.parse(readFileSync(join(workload.root, 'out', `${bookA[0]}.json`), 'utf8')) as {
      meta: { attempt: number };
    };
    expect(output.meta.attempt).toBe(2);
    // Nothing paid twice for a success, and the dead record was billed once per attempt.
    const keys = emulator.ledger.entries().map((e) => e.key);
    expect(keys.filter((k) => k === bookB[1])).toHaveLength(3);
  });

  it('puts the records of FAILED and EXPIRED jobs back in the queue', async () => {
    const { workload, emulator } = await catalogOnEmulator(
      sandbox,
      { books: 2, pages: 1 },
      {
        turnaroundMs: 30_000,
        seed: 3,
        faults: { jobSequence: ['job_failed', 'job_expired'] },
      },
    );
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run();
    await session.close();
    expect(summary.counts).toMatchObject({ done: 2, dead: 0 });
    const states = events.flatMap((e) => (e.type === 'job-state' ? [e.state] : []));
    expect(states).toEqual(expect.arrayContaining(['failed', 'expired', 'succeeded']));
  });

  it('stays within the concurrent-job quota and recovers from 429s when the server is stricter', async () => {
    // Jobs last 10 emulated minutes (~170 ms real): the third create always meets two live jobs.
    const { workload, emulator } = await catalogOnEmulator(
      sandbox,
      {
        books: 6,
        pages: 1,
        execution: { max_concurrent_jobs: 5, max_requests_per_job: 1 },
      },
      {
        turnaroundMs: 600_000,
        seed: 4,
        quotas: { maxConcurrentBatchJobs: 2 },
      },
    );
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run();
    await session.close();
    expect(summary.counts.done).toBe(6);
    expect(events.some((e) => e.type === 'quota-wait')).toBe(true);
    expect(new Set(emulator.ledger.entries().map((e) => e.key)).size).toBe(6);
    expect(emulator.ledger.entries()).toHaveLength(6);
  });

  it('keeps within its own limits: never more live jobs, requests per job or enqueued tokens than configured', async () => {
    // The server enforces the same limits: any overshoot by the runner would surface as a 429.
    const { workload, emulator } = await catalogOnEmulator(
      sandbox,
      {
        books: 5,
        pages: 2,
        execution: { max_concurrent_jobs: 2, max_requests_per_job: 2, enqueued_token_budget: 1200 },
      },
      {
        turnaroundMs: 300_000,
        seed: 6,
        quotas: { maxConcurrentBatchJobs: 2, maxEnqueuedTokensPerModel: 1200 },
      },
    );
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run();
    await session.close();

    expect(summary.counts).toMatchObject({ done: 10, dead: 0 });
    expect(events.filter((e) => e.type === 'quota-wait')).toEqual([]);
    const submitted = events.flatMap((e) => (e.type === 'job-submitted' ? [e] : []));
    expect(submitted.every((job) => job.requests <= 2 && job.estimatedTokens <= 1200)).toBe(true);
    const perBatch = new Map<string, number>();
    for (const entry of emulator.ledger.entries())
      perBatch.set(entry.batchName ?? '', (perBatch.get(entry.batchName ?? '') ?? 0) + 1);
    expect(Math.max(...perBatch.values())).toBeLessThanOrEqual(2);
    // Live jobs never exceeded two: replay submissions and settlements in event order.
    let live = 0;
    let peak = 0;
    for (const event of events) {
      if (event.type === 'job-submitted') peak = Math.max(peak, ++live);
      if (
        event.type === 'job-processed' ||
        (event.type === 'job-state' && ['failed', 'expired', 'cancelled'].includes(event.state))
      )
        live--;
    }
    expect(peak).toBeLessThanOrEqual(2);
  });
});
