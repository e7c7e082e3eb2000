import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { billsPerRecord, catalogRecordOf } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { patientRequestTimeouts, speedableRealTime } from '../fixtures/emulator-clock.js';
import { remoteJobs } from '../fixtures/remote-jobs.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

// An emulated hour per real second. Flex answers within 5 minutes (83 ms real), well inside its
// 20-minute request timeout (333 ms real) even when a busy machine stretches a round trip.
const TIME_SCALE = 3_600;
const MINUTE = 60_000;

describe('auto hedges a stalled batch job onto Flex', () => {
  let emulator: RunningEmulator | undefined;
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  /**
   * Runs the workload; `afterStall`, once a stall is reported, speeds the emulator's clock up that
   * many times: what the run waits for then (the stuck job's expiry) costs no real seconds.
   */
  async function run(execution: Record<string, string | number>, jobExpiryMs?: number, afterStall = 1) {
    const time = speedableRealTime();
    emulator = await startEmulator({
      ...(jobExpiryMs ? { jobExpiryMs } : {}),
      realNow: time.now,
      timeScale: TIME_SCALE,
      seed: 23,
      turnaroundMs: 30 * MINUTE,
      tiers: { flex: { latencyMs: { min: MINUTE, max: 5 * MINUTE } } },
      // Three jobs teach the turnaround (30 min); the fourth sits in Google's queue until it expires
      // (48 h), as users report.
      faults: { jobSequence: ['none', 'none', 'none', 'job_stuck'] },
    });
    // A week's deadline: every page fits a batch turnaround, so auto sends each round as one job;
    // the chain of four pages needs four rounds, and its last page goes in the stuck fourth job.
    // A job is stalled past 4 x the learned turnaround (2 h emulated, 2 s real).
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 1,
      pagesPerBook: [4, 1, 1],
      execution: {
        mode: 'auto',
        deadline: '7d',
        poll_interval: '10m',
        stall_factor: 4,
        stall_min_age: 1,
        ...execution,
      },
    });
    sandbox.removeAfterTest(workload.root);
    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(60_000),
      // Flex's 20 minutes are 333 real ms here: a busy machine's pause gave up on the hedged
      // record's answer on its way and sent it again, billed twice.
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      onEvent: (event) => {
        if (event.type === 'job-stalled' && afterStall > 1) time.speedUp(afterStall);
      },
    });
    return { summary, events, chains: workload.chains, ledger: emulator.ledger.entries() };
  }

  it('cancels the stalled job (nothing of it processed) and sends its records on Flex, each billed once', async () => {
    const { summary, events, chains, ledger } = await run({});
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 6, dead: 0 });
    const lastPage = chains[0]?.[3] as string;

    const stalled = events.flatMap((event) => (event.type === 'job-stalled' ? [event] : []));
    expect(stalled).toHaveLength(1);
    expect(stalled[0]).toMatchObject({ action: 'cancelled', records: 'hedged', state: 'pending' });
    const jobs = await remoteJobs(emulator!);
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_CANCELLED');

    const decisions = events.flatMap((event) => (event.type === 'lane-decision' ? [event] : []));
    const hedged = decisions.filter((decision) => decision.reason === 'hedge');
    expect(hedged.map((decision) => decision.recordId)).toEqual([lastPage]);
    for (const decision of hedged) {
      expect(decision.lane).toBe('flex');
      expect(decision.explanation).toMatch(/^hedge: its batch job stalled and was cancelled; /);
    }
    // The outside observer: every record billed exactly once; the hedged one on Flex, the rest
    // (which a week's deadline leaves to batch) in batch jobs.
    expect([...billsPerRecord(ledger).entries()].sort()).toEqual(
      chains
        .flat()
        .map((id) => [id, 1])
        .sort(),
    );
    for (const entry of ledger)
      expect(entry.lane, catalogRecordOf(entry)).toBe(catalogRecordOf(entry) === lastPage ? 'flex' : 'batch');
  }, 90_000);

  it('with stall_action wait set, reports the stall and leaves the job alone', async () => {
    // Jobs expire after 6 emulated hours here: the stuck one is reported at 2 h, then expires. At
    // 3 h the runner had one real second to see the stall, and a busy machine's pause let the job
    // expire unreported. Once it is reported, the wait for its expiry runs 10 times faster.
    const { events } = await run({ stall_action: 'wait' }, 6 * 60 * MINUTE, 10);
    const stalled = events.flatMap((event) => (event.type === 'job-stalled' ? [event] : []));
    expect(stalled[0]).toMatchObject({ action: 'waiting' });
    expect(events.some((event) => event.type === 'lane-decision' && event.reason === 'hedge')).toBe(false);
    const jobs = await remoteJobs(emulator!);
    expect(jobs.find((job) => job.name === stalled[0]!.remoteName)?.state).toBe('JOB_STATE_EXPIRED');
  }, 90_000);
});
