import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';
import { openEmulatedSession } from '../fixtures/session.js';

describe('stalled batch jobs', () => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterEach(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** One chain of four pages: three jobs teach the turnaround, the fourth is stuck in the queue. */
  async function stuckFourthJob(action: 'wait' | 'cancel', jobExpiryMs?: number) {
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 4,
      execution: { stall_factor: 4, stall_min_age: 1, stall_action: action },
    });
    root = workload.root;
    emulator = await startEmulator({
      timeScale: 3600,
      turnaroundMs: 60_000,
      seed: 41,
      faults: { jobSequence: ['none', 'none', 'none', 'job_stuck'] },
      ...(jobExpiryMs ? { jobExpiryMs } : {}),
    });
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run(AbortSignal.timeout(15_000));
    await session.close();
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 4, dead: 0, total: 4 });
    // Never billed twice: the stuck job processed nothing, its page was billed once in a new job.
    const billed = billedTimes(emulator);
    for (const id of workload.chains.flat()) expect(billed.get(id), `billed once: ${id}`).toBe(1);
    const jobs = await remoteJobs(emulator);
    expect(new Set(jobs.map((job) => job.displayName)).size).toBe(jobs.length);
    const stalled = events.flatMap((event) => (event.type === 'job-stalled' ? [event] : []));
    return { stalled, jobs };
  }

  it('cancels a job stuck PENDING far beyond the learned turnaround and resubmits its records', async () => {
    const { stalled, jobs } = await stuckFourthJob('cancel');
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ action: 'cancelled', state: 'pending' });
    expect(stalled[0]!.ageMs).toBeGreaterThan(stalled[0]!.thresholdMs);
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_CANCELLED');
    expect(jobs).toHaveLength(5);
  });

  it('with stall_action wait, reports it once and waits for it (here until it expires)', async () => {
    // Jobs expire after one emulated hour (1 s real): the stuck one is reported well before that.
    const { stalled, jobs } = await stuckFourthJob('wait', 3_600_000);
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ action: 'waiting', state: 'pending' });
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_EXPIRED');
  });
});
