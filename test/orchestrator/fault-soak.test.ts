import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { remoteJobs } from '../fixtures/remote-jobs.js';
import { FAST_RETRY } from '../fixtures/session.js';

// Everything at once, as a long unattended run meets it: chains of heavy-tailed lengths, every fault
// class the emulator has, runners SIGKILLed at random moments, and a second runner started with each
// one. Whatever happens, the outside observers (the emulator's ledger and job list, the output files)
// must show: the run finished by itself, every record done or dead-lettered with a cause, no result
// billed twice, no job created twice, nothing of ours left running. WB_SOAK_SEED replays a seed.

const CHILD = join(import.meta.dirname, '..', 'fixtures', 'run-child.ts');
const SEED = Number(process.env.WB_SOAK_SEED ?? Date.now() % 1_000_000);
const KILL_ROUNDS = 5;
/**
 * A runner normally ends within seconds. One that is still alive after this has stopped making
 * progress: it is killed and the test fails with its last lines, instead of the whole soak hanging
 * until the test's timeout with nothing to show what the runner was waiting on (seen once in CI).
 */
const CHILD_DEADLINE_MS = 45_000;

/** Deterministic uniform [0, 1) numbers from a seed (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'finished' | 'killed' | 'locked';

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** When a runner is SIGKILLed: after its n-th unit of work (a record settled or a job submitted), then a few ms more. */
interface KillPoint {
  afterWork: number;
  extraMs: number;
}

/** A line of the child's event stream that marks work done, not just time passing (progress, polls). */
const WORK_EVENT = /"type":"(record-done|record-failed|job-submitted)"/;

/**
 * Runs the workload in a child; SIGKILLs it at `kill` (null: let it end). The kill waits for a count
 * of work, not for a time: a loaded machine slows the runner down but cannot let it finish the
 * workload before its kill, so every kill round really kills (the soak once saw 2 kills of 5).
 */
function runChild(
  configPath: string,
  url: string,
  kill: KillPoint | null,
  pair: { partnerContended: Promise<void>; contended: () => void },
): Promise<Outcome> {
  const options = JSON.stringify({ retryPolicy: FAST_RETRY, remoteScanIntervalMs: 300 });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath, url, options], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let outcome: Outcome | null = null;
    let timer: NodeJS.Timeout | undefined;
    let stuck = false;
    const deadline = setTimeout(() => {
      stuck = true;
      child.kill('SIGKILL');
    }, CHILD_DEADLINE_MS);
    let work = 0;
    let stderr = '';
    const lines: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The kill waits until the partner has tried for the lease too (it holds it or was refused), so
    // the pair always contends: one works and is killed, the other is refused while it is alive.
    let partnerDone = false;
    void pair.partnerContended.then(() => (partnerDone = true));
    let pending = 0;
    const armKill = () => {
      if (kill === null || timer || !partnerDone || pending < kill.afterWork) return;
      timer = setTimeout(() => {
        outcome ??= 'killed';
        child.kill('SIGKILL');
      }, kill.extraMs);
    };
    void pair.partnerContended.then(armKill);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"type":"run-started"')) pair.contended();
      if (line.includes('"type":"summary"')) outcome = 'finished';
      if (line.includes('"code":"RUN_LOCKED"')) outcome = 'locked';
      if (WORK_EVENT.test(line)) pending = ++work;
      armKill();
    });
    child.on('exit', () => {
      pair.contended();
      clearTimeout(timer);
      clearTimeout(deadline);
      if (stuck)
        reject(
          new Error(
            `runner still alive after ${CHILD_DEADLINE_MS} ms (seed ${SEED}, ${work} units of work, ` +
              `kill ${JSON.stringify(kill)}, partner contended: ${partnerDone}); its last lines:\n` +
              `${lines.slice(-30).join('\n')}\n${stderr.slice(-2000)}`,
          ),
        );
      else if (outcome) resolve(outcome);
      else reject(new Error(`runner failed (seed ${SEED}): ${stderr}\n${lines.slice(-5).join('\n')}`));
    });
  });
}

describe('fault soak', () => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterAll(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(`finishes by itself under every fault, kill -9 and a second runner, billing nothing twice (seed ${SEED})`, async () => {
    const draw = random(SEED);
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

    const outcomes: Outcome[] = [];
    let finished = false;
    for (let round = 0; round < KILL_ROUNDS + 4 && !finished; round++) {
      // Killed after 1 to 8 units of work (the workload has well over 5 x 8), at a random instant
      // of the work that follows.
      const kill =
        round < KILL_ROUNDS
          ? { afterWork: 1 + Math.floor(draw() * 8), extraMs: Math.floor(draw() * 40) }
          : null;
      // Every round two runners are started together: one works, the other is refused.
      const first = signal();
      const second = signal();
      const pair = await Promise.all([
        runChild(workload.configPath, emulator.url, kill, {
          partnerContended: second.promise,
          contended: () => first.resolve(),
        }),
        runChild(workload.configPath, emulator.url, kill, {
          partnerContended: first.promise,
          contended: () => second.resolve(),
        }),
      ]);
      outcomes.push(...pair);
      finished = pair.includes('finished');
    }
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
