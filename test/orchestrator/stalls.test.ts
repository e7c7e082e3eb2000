import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';
import { emulatedSleepClock, emulatorClock, speedableRealTime } from '../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

/** The emulator's speed for the runs on the wall clock: an emulated hour is a real second. */
const TIME_SCALE = 3600;
/** Past the age at which a job is stalled while fewer than three jobs taught the turnaround (24 h). */
const PAST_UNLEARNED_STALL_MS = 25 * 3600_000;
/** How long a job stuck in the emulator's queue waits before it expires: Google's 48 h. */
const JOB_EXPIRY_MS = 48 * 3600_000;

describe('stalled batch jobs', () => {
  let emulator: RunningEmulator | undefined;

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  /**
   * One chain of four pages: three jobs teach the turnaround, the fourth (and `stuckJobs - 1` after
   * it) is stuck in the queue. The run ages its jobs by the wall clock; a job is 10 emulated minutes,
   * 167 ms real, so a normal job is called stalled only if the machine stops the run for over three
   * times that between a poll and its check. A stuck job the run waits for expires once it has been
   * reported (its emulated time is moved past the expiry then): it expired an emulated hour (1 s
   * real) after its creation, and on a loaded machine the run had not called it stalled by then.
   */
  async function stuckFourthJob(action: 'wait' | 'cancel', stuckJobs = 1) {
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 4,
      execution: { stall_factor: 4, stall_min_age: 1, stall_action: action },
    });
    sandbox.removeAfterTest(workload.root);
    const time = speedableRealTime();
    emulator = await startEmulator({
      timeScale: TIME_SCALE,
      turnaroundMs: 10 * 60_000,
      realNow: time.now,
      jobExpiryMs: JOB_EXPIRY_MS,
      seed: 41,
      faults: {
        jobSequence: [
          'none',
          'none',
          'none',
          ...Array.from({ length: stuckJobs }, () => 'job_stuck' as const),
        ],
      },
    });
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      onEvent: (event) => {
        if (event.type === 'job-stalled' && event.action === 'waiting') time.skip(JOB_EXPIRY_MS / TIME_SCALE);
      },
    });
    // A bound against a hang, not a timing the test relies on.
    const summary = await session.runner.run(AbortSignal.timeout(50_000));
    await session.close();
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 4, dead: 0, total: 4 });
    // Never billed twice: the stuck job processed nothing, its page was billed once in a new job.
    const billed = billedTimes(emulator);
    for (const id of workload.chains.flat()) expect(billed.get(id), `billed once: ${id}`).toBe(1);
    const jobs = await remoteJobs(emulator);
    expect(new Set(jobs.map((job) => job.displayName)).size).toBe(jobs.length);
    const stalled = events.flatMap((event) => (event.type === 'job-stalled' ? [event] : []));
    return { stalled, jobs, events };
  }

  it('calls no job stalled that is young by the run’s clock, on the emulator’s fast clock', async () => {
    // Six jobs of 20 emulated minutes each, one after another: two hours in all, far past the
    // threshold once three jobs taught the turnaround (4 x 20 min). The store stamped a job's
    // creation by the wall clock while the run aged it by the emulator's: every job after the
    // first 80 minutes looked stalled as soon as it was created.
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 6,
      execution: { stall_factor: 4, stall_min_age: 1, stall_action: 'wait' },
    });
    sandbox.removeAfterTest(workload.root);
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20 * 60_000, seed: 41 });
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, 3600),
    });
    const summary = await session.runner.run(AbortSignal.timeout(15_000));
    await session.close();
    expect(summary.counts).toMatchObject({ done: 6, dead: 0 });
    expect(await remoteJobs(emulator)).toHaveLength(6);
    expect(events.filter((event) => event.type === 'job-stalled')).toEqual([]);
  });

  it('cancels a job stuck PENDING far beyond the learned turnaround and resubmits its records', async () => {
    const { stalled, jobs } = await stuckFourthJob('cancel');
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ action: 'cancelled', records: 'resent', state: 'pending' });
    expect(stalled[0]!.ageMs).toBeGreaterThan(stalled[0]!.thresholdMs);
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_CANCELLED');
    expect(jobs).toHaveLength(5);
  });

  it("cancels a record's stalled jobs at most twice, then waits for the next (a slow queue is not fought)", async () => {
    // Jobs 4, 5 and 6 all sit in the queue; the one waited for expires once reported.
    const { stalled, events } = await stuckFourthJob('cancel', 3);
    expect(stalled.map((event) => event.action)).toEqual(['cancelled', 'cancelled', 'waiting']);
    expect(
      events.some(
        (event) =>
          event.type === 'warning' &&
          /already cancelled 2 times for stalls, so this one is waited for/.test(event.message),
      ),
    ).toBe(true);
  });

  it('with stall_action wait, reports it once and waits for it (here until it expires)', async () => {
    const { stalled, jobs } = await stuckFourthJob('wait');
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ action: 'waiting', state: 'pending' });
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_EXPIRED');
  });

  /**
   * Four chains of two pages under `stall_action: split`: the four first pages go as one job, and the
   * jobs `stuckJobs` names sit in the queue. Each round of jobs created moves the emulated time a day
   * and an hour on, past the 24 h before an unlearned job is stalled: a stuck job is stalled at the
   * next look, and a normal one (half an hour) has ended by then. The run ran at 50,000 times real
   * time, where a machine that stopped the run for 1.7 s between a poll and its check had a normal
   * job called stalled; at 3600 times an emulated day is 24 real seconds.
   */
  async function splitRun(stuckJobs: number) {
    const workload = writeCatalogWorkload({
      books: 4,
      pages: 2,
      execution: { stall_action: 'split', poll_interval: '30m' },
    });
    sandbox.removeAfterTest(workload.root);
    const time = speedableRealTime();
    let skippedAt = Number.NEGATIVE_INFINITY;
    emulator = await startEmulator({
      timeScale: TIME_SCALE,
      realNow: time.now,
      turnaroundMs: 30 * 60_000,
      seed: 43,
      faults: { jobSequence: Array.from({ length: stuckJobs }, () => 'job_stuck' as const) },
    });
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatedSleepClock(emulator, TIME_SCALE),
      onEvent: (event) => {
        // Once for the jobs of one round (the two halves of a split): a second day would have passed
        // the stuck half's expiry (48 h) before the run looked at it.
        if (event.type !== 'job-submitted' || emulator!.now() < skippedAt + 3600_000) return;
        time.skip(PAST_UNLEARNED_STALL_MS / TIME_SCALE);
        skippedAt = emulator!.now();
      },
    });
    // A bound against a hang, not a timing the test relies on.
    const summary = await session.runner.run(AbortSignal.timeout(50_000));
    await session.close();
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 8, dead: 0, total: 8 });
    const stalled = events.flatMap((event) => (event.type === 'job-stalled' ? [event] : []));
    return { workload, emulator, stalled };
  }

  it('with stall_action split, cancels a stuck job and sends its records again as two jobs of half its size', async () => {
    const { workload, emulator, stalled } = await splitRun(1);
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ action: 'cancelled', records: 'split', state: 'pending' });
    const jobs = await remoteJobs(emulator);
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_CANCELLED');
    expect(new Set(jobs.map((job) => job.displayName)).size).toBe(jobs.length);

    // The outside observer: the first pages were billed once each, in two jobs of two.
    const billed = billedTimes(emulator);
    for (const id of workload.chains.flat()) expect(billed.get(id), `billed once: ${id}`).toBe(1);
    const firstPages = new Set(workload.chains.map((chain) => chain[0] as string));
    const jobsOfFirstPages = new Map<string, string[]>();
    for (const entry of emulator.ledger.entries())
      if (entry.key && firstPages.has(entry.key))
        jobsOfFirstPages.set(entry.batchName ?? '', [
          ...(jobsOfFirstPages.get(entry.batchName ?? '') ?? []),
          entry.key,
        ]);
    expect([...jobsOfFirstPages.values()].map((keys) => keys.length)).toEqual([2, 2]);
    expect(jobsOfFirstPages.has(stalled[0]!.remoteName)).toBe(false);
  }, 90_000);

  it('with stall_action split, halves again a half that stalls too, billing nothing twice', async () => {
    // The first job (the four first pages) is stuck in the queue, and so is the first of its halves.
    const { workload, emulator, stalled } = await splitRun(2);
    expect(stalled.map((event) => [event.action, event.state])).toEqual([
      ['cancelled', 'pending'],
      ['cancelled', 'pending'],
    ]);
    const jobs = await remoteJobs(emulator);
    const stuck = new Set(stalled.map((event) => event.remoteName));
    for (const name of stuck)
      expect(jobs.find((job) => job.name === name)?.state).toBe('JOB_STATE_CANCELLED');

    // The outside observer: every record billed exactly once, nothing by a cancelled job, and the
    // first pages billed in jobs of 2 (the half that ran) and 1 and 1 (the stuck half, split again).
    const ledger = emulator.ledger.entries();
    expect([...billedTimes(emulator).entries()].sort()).toEqual(
      workload.chains
        .flat()
        .map((id) => [id, 1])
        .sort(),
    );
    expect(ledger.filter((entry) => stuck.has(entry.batchName ?? ''))).toEqual([]);
    const firstPages = new Set(workload.chains.map((chain) => chain[0]));
    const perJob = new Map<string, number>();
    for (const entry of ledger)
      if (firstPages.has(entry.key ?? ''))
        perJob.set(entry.batchName ?? '', (perJob.get(entry.batchName ?? '') ?? 0) + 1);
    expect([...perJob.values()].sort()).toEqual([1, 1, 2]);
  }, 90_000);
});
