import { rmSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunnerEvent } from '../../src/runner/events.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../fixtures/session.js';

type Submitted = Extract<RunnerEvent, { type: 'job-submitted' }>;

// A round reads, sizes and packs ten jobs' worth of ready records at a time (two requests per job
// here: chunks of 20), so its memory is what the next jobs need, not every ready record at once.
describe('a submission round, a chunk of jobs at a time', () => {
  const sandbox = emulatorSandbox();

  /** One pass of the runner (`run-once`) over a flat workload of `records` pages; the jobs it sent. */
  async function onePass(records: number, execution: Record<string, number>) {
    const emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 3 });
    const workload = writeCatalogWorkload({ books: records, pages: 1, execution });
    onTestFinished(() => rmSync(workload.root, { recursive: true, force: true }));
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    try {
      await session.runner.runOnce();
      return {
        submitted: events.filter((event): event is Submitted => event.type === 'job-submitted'),
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
});
