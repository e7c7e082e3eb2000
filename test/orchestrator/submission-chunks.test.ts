import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunnerEvent } from '../../src/runner/events.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../fixtures/session.js';

type Submitted = Extract<RunnerEvent, { type: 'job-submitted' }>;
type Decision = Extract<RunnerEvent, { type: 'lane-decision' }>;

// A round reads, sizes and packs ten jobs' worth of ready records at a time (two requests per job
// here: chunks of 20), so its memory is what the next jobs need, not every ready record at once.
describe('a submission round, a chunk of jobs at a time', () => {
  const sandbox = emulatorSandbox();

  /** One pass of the runner (`run-once`) over a flat workload of `records` pages; the jobs it sent. */
  async function onePass(
    records: number,
    execution: Record<string, number | string>,
    pageText?: string,
    extraYaml?: string,
  ) {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 3 });
    const workload = writeCatalogWorkload({
      books: records,
      pages: 1,
      execution,
      ...(extraYaml === undefined ? {} : { extraYaml }),
    });
    onTestFinished(() => rmSync(workload.root, { recursive: true, force: true }));
    if (pageText !== undefined)
      for (const [chain] of workload.chains)
        writeFileSync(join(workload.root, 'dataset', `${chain}.txt`), pageText);
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    try {
      await session.runner.runOnce();
      return {
        submitted: events.filter((event): event is Submitted => event.type === 'job-submitted'),
        decisions: events.filter((event): event is Decision => event.type === 'lane-decision'),
        counts: await session.store.counts(),
      };
    } finally {
      await session.close();
    }
  }

  it('sends every ready record in one pass when there is room, across chunks, each in one job', async () => {
    const pass = await onePass(45, { max_requests_per_job: 2, max_concurrent_jobs: 30 });
    expect(pass.submitted).toHaveLength(23);
    expect(pass.submitted.reduce((sum, job) => sum + job.requests, 0)).toBe(45);
    expect(pass.counts).toMatchObject({ ready: 0, in_flight: 45 });
    // What the emulator was asked for: 23 jobs, none twice.
    expect(new Set(pass.submitted.map((job) => job.remoteName)).size).toBe(23);
  });

  it('stops at the room it has: the rest stays ready for the next pass', async () => {
    const pass = await onePass(45, { max_requests_per_job: 2, max_concurrent_jobs: 12 });
    expect(pass.submitted).toHaveLength(12);
    expect(pass.counts).toMatchObject({ ready: 21, in_flight: 24 });
  });

  // Pages of 10,000 characters make requests of 10-11 kB: a job of 36,000 bytes takes three of its
  // four. Chunks of whole jobs by count would each end in a job of one or two: 45 records went in 16
  // jobs (13 of three, one of one, then three and two). The last open job of a full chunk waits for
  // the next chunk instead, so every job is full but the round's last.
  it('fills every job but the last when bytes fill jobs before the request count', async () => {
    const pass = await onePass(
      45,
      { max_requests_per_job: 4, max_job_bytes: 36_000, max_concurrent_jobs: 30 },
      'x'.repeat(10_000),
    );
    expect(pass.submitted.map((job) => job.requests)).toEqual(Array.from({ length: 15 }, () => 3));
    expect(pass.counts).toMatchObject({ ready: 0, in_flight: 45 });
  });

  // With max_cost the dispatcher lists and prices the chunks, then hands the batch lane its share.
  it('fills them the same when the dispatcher prices the chunks (max_cost)', async () => {
    const pass = await onePass(
      45,
      { max_requests_per_job: 4, max_job_bytes: 36_000, max_concurrent_jobs: 30, max_cost: 100 },
      'x'.repeat(10_000),
    );
    expect(pass.submitted.map((job) => job.requests)).toEqual(Array.from({ length: 15 }, () => 3));
    expect(pass.counts).toMatchObject({ ready: 0, in_flight: 45 });
  });

  // In auto, each decision is logged: a record whose open job waited for the next chunk is decided
  // again there, and must not be logged twice for the one decision. (Flex at one request a day
  // leaves the width to batch.)
  it('logs one decision per record in auto when an open job waits for the next chunk', async () => {
    const pass = await onePass(
      45,
      { max_requests_per_job: 4, max_job_bytes: 36_000, max_concurrent_jobs: 30, mode: 'auto' },
      'x'.repeat(10_000),
      ['limits:', '  models:', '    gemini-2.5-flash:', '      flex: { rpd: 1 }'].join('\n'),
    );
    const perRecord = new Map<string, number>();
    for (const decision of pass.decisions)
      perRecord.set(decision.recordId, (perRecord.get(decision.recordId) ?? 0) + 1);
    expect(pass.submitted.length).toBeGreaterThan(1);
    expect([...perRecord.values()].filter((count) => count > 1)).toEqual([]);
    expect(perRecord.size).toBe(45);
  });
});
