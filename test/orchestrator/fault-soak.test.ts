import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { mulberry32 } from '../../src/emulator/seeded-random.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { killRounds, lastWords, soakSeed, watchKilledChild, type KillPoint } from '../fixtures/kill-soak.js';
import { spawnRunChild } from '../fixtures/killable-run.js';
import { remoteJobs } from '../fixtures/remote-jobs.js';
import { FAST_RETRY } from '../fixtures/session.js';

// Everything at once, as a long unattended run meets it: chains of heavy-tailed lengths, every fault
// class the emulator has, runners SIGKILLed at random moments, and a second runner started with each
// one. Whatever happens, the outside observers (the emulator's ledger and job list, the output files)
// must show: the run finished by itself, every record done or dead-lettered with a cause, no result
// billed twice, no job created twice, nothing of ours left running. WB_SOAK_SEED replays a seed.

const SEED = soakSeed('WB_SOAK_SEED');
const KILL_ROUNDS = 5;
/**
 * A runner normally ends within seconds. One that is still alive after this has stopped making
 * progress (seen once in CI): it is killed and the test fails with its last lines.
 */
const CHILD_DEADLINE_MS = 45_000;

type Outcome = 'finished' | 'killed' | 'locked';

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * A line of the child's event stream that marks a unit of work done (a record settled or a job
 * submitted), not just time passing (progress, polls).
 */
const WORK_EVENT = /"type":"(record-done|record-failed|job-submitted)"/;

/**
 * Runs the workload in a child; SIGKILLs it at `kill` (null: let it end). The kill waits for a count
 * of work, not for a time: a loaded machine slows the runner down but cannot let it finish the
 * workload before its kill, so every kill round really kills (the soak once saw 2 kills of 5).
 */
async function runChild(
  configPath: string,
  url: string,
  kill: KillPoint | null,
  pair: { partnerContended: Promise<void>; contended: () => void },
): Promise<Outcome> {
  const child = spawnRunChild(configPath, url, { retryPolicy: FAST_RETRY, remoteScanIntervalMs: 300 });
  let partnerDone = false;
  void pair.partnerContended.then(() => (partnerDone = true));
  const end = await watchKilledChild(child, {
    events: child.stdout,
    work: WORK_EVENT,
    kill,
    deadlineMs: CHILD_DEADLINE_MS,
    // The kill waits until the partner has tried for the lease too (it holds it or was refused), so
    // the pair always contends: one works and is killed, the other is refused while it is alive.
    armAfter: pair.partnerContended,
    onLine: (line) => {
      if (line.includes('"type":"run-started"')) pair.contended();
    },
    context: () => `seed ${SEED}, partner contended: ${partnerDone}`,
  }).finally(pair.contended);
  if (end.lines.some((line) => line.includes('"type":"summary"'))) return 'finished';
  if (end.lines.some((line) => line.includes('"code":"RUN_LOCKED"'))) return 'locked';
  if (end.linesAtKill !== null) return 'killed';
  throw new Error(`runner failed (seed ${SEED}): ${lastWords(end, 5)}`);
}

describe('fault soak', () => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterAll(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(`finishes by itself under every fault, kill -9 and a second runner, billing nothing twice (seed ${SEED})`, async () => {
    const draw = mulberry32(SEED);
    // Heavy-tailed chain lengths (Pareto, alpha 1.2, capped): many short chains, a few long ones,
    // and one of 14 pages, so the run outlasts several kills (each page needs its own job round trip).
    const pagesPerBook = [
      14,
      ...Array.from({ length: 17 }, () => Math.min(10, Math.floor(1 / (1 - draw()) ** (1 / 1.2)))),
    ];
    emulator = await startEmulator({
      timeScale: 3600,
      // Jobs take 1 to 20 emulated minutes: 17 to 333 ms real.
      turnaroundMs: { min: 60_000, max: 1_200_000 },
      // A job stuck PENDING expires after an emulated hour (1 s), if the stall policy has not
      // cancelled it before.
      jobExpiryMs: 3_600_000,
      seed: SEED,
      quotas: { maxConcurrentBatchJobs: 2 },
      faults: {
        rates: { invalid_json: 0.05, max_tokens: 0.04, safety: 0.03, request_error: 0.04, empty: 0.02 },
        jobRates: { failed: 0.06, expired: 0.04 },
        jobSequence: ['none', 'none', 'none', 'none', 'job_stuck', 'none', 'job_stuck'],
        http: [
          { kind: 'status_503', match: 'create', rate: 0.15 },
          { kind: 'drop', match: 'create', rate: 0.08 },
          { kind: 'status_500', match: 'download', rate: 0.25 },
          { kind: 'drop', match: 'download', rate: 0.05 },
          { kind: 'drop', match: 'get', rate: 0.04 },
          { kind: 'status_503', match: 'get', rate: 0.04 },
          { kind: 'drop', match: 'list', rate: 0.1 },
          { kind: 'status_500', match: 'upload', rate: 0.1 },
          { kind: 'status_503', match: 'count', rate: 0.3 },
        ],
      },
    });
    const workload = writeCatalogWorkload({
      books: pagesPerBook.length,
      pages: 1,
      pagesPerBook,
      execution: {
        max_retries: 2,
        max_concurrent_jobs: 4,
        max_requests_per_job: 5,
        inline_max_bytes: 1500,
        poll_interval: 20,
        stall_factor: 3,
        stall_min_age: 1,
        stall_action: 'cancel',
      },
    });
    root = workload.root;

    const url = emulator.url;
    const outcomes: Outcome[] = [];
    const finished = await killRounds({
      kills: KILL_ROUNDS,
      spareRounds: 4,
      // Killed after 1 to 8 units of work (the workload has well over 5 x 8), at a random instant
      // of the work that follows.
      nextKill: () => ({ afterWork: 1 + Math.floor(draw() * 8), extraMs: Math.floor(draw() * 40) }),
      round: async (kill) => {
        // Every round two runners are started together: one works, the other is refused.
        const first = signal();
        const second = signal();
        const pair = await Promise.all([
          runChild(workload.configPath, url, kill, {
            partnerContended: second.promise,
            contended: () => first.resolve(),
          }),
          runChild(workload.configPath, url, kill, {
            partnerContended: first.promise,
            contended: () => second.resolve(),
          }),
        ]);
        outcomes.push(...pair);
        return pair.includes('finished');
      },
    });
    const context = `seed ${SEED}, outcomes ${outcomes.join(' ')}`;
    // The run met its HTTP faults (about 18 over a soak; a kind with few calls, such as uploads, may
    // meet none of its own): a soak no fault reached would prove nothing.
    const fired = emulator.httpFaultsFired();
    expect(
      fired.reduce((sum, times) => sum + times, 0),
      `HTTP faults fired ${fired.join(' ')} (${context})`,
    ).toBeGreaterThanOrEqual(5);
    // The observer's own calls must not meet the faults.
    emulator.setFaults({});
    expect(finished, context).toBe(true);
    expect(outcomes.filter((o) => o === 'killed').length, context).toBe(KILL_ROUNDS);
    expect(outcomes.filter((o) => o === 'locked').length, context).toBeGreaterThanOrEqual(KILL_ROUNDS);

    // Every record is done (its output exists), dead-lettered with a cause, or waits behind one.
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const dead = new Map((await store.listFailures({ deadOnly: true })).map((f) => [f.recordId, f]));
    await store.close();
    const billedOk = new Map<string, number>();
    for (const entry of emulator.ledger.entries())
      if (entry.key !== null && entry.outcome === 'ok')
        billedOk.set(entry.key, (billedOk.get(entry.key) ?? 0) + 1);
    for (const chain of workload.chains) {
      let behindDead = false;
      for (const id of chain) {
        const done = existsSync(join(root, 'out', `${id}.json`));
        if (done) {
          expect(billedOk.get(id), `${id} billed once for its result (${context})`).toBe(1);
        } else if (dead.has(id)) {
          expect(dead.get(id)?.cause, `${id} dead with a cause (${context})`).toBeTruthy();
          behindDead = true;
        } else {
          expect(behindDead, `${id} is neither done nor dead nor behind a dead letter (${context})`).toBe(
            true,
          );
        }
        expect(billedOk.get(id) ?? 0, `${id}: no result billed twice (${context})`).toBeLessThanOrEqual(1);
      }
    }

    // No job created twice; nothing of ours left running remotely.
    const jobs = await remoteJobs(emulator);
    expect(new Set(jobs.map((job) => job.displayName)).size, context).toBe(jobs.length);
    const live = jobs.filter((job) => ['JOB_STATE_PENDING', 'JOB_STATE_RUNNING'].includes(job.state));
    expect(live, context).toEqual([]);
  }, 120_000);
});
