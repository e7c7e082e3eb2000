import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli, type CliResult } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { speedableRealTime } from '../fixtures/emulator-clock.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';

const ENV = { GEMINI_API_KEY: 'exclusive-test-key' };

/** Starts `wavebatch run` and resolves once its progress shows a submitted job (the run is busy). */
function startRun(configPath: string): {
  busy: Promise<void>;
  done: Promise<CliResult>;
  pid: number;
  kill(): void;
} {
  const child = spawn(process.execPath, [BIN, 'run', '-c', configPath], {
    env: cliEnv(ENV),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markBusy: () => void = () => {};
  const busy = new Promise<void>((resolve) => (markBusy = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (/submitted (inline|file) job/.test(stderr)) markBusy();
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { busy, done, pid: child.pid ?? -1, kill: () => child.kill('SIGKILL') };
}

/** Once the other processes have met the run, emulated time runs: its jobs then take 0.12 real s. */
const SPEED_UP = 50;

/**
 * An emulator and a workload of `books` × `pages` whose emulated clock stands still until the test
 * calls `time.speedUp`: a run's jobs (an emulated hour each) cannot end before the other processes
 * have met it, however long a loaded machine takes to start them. At real time (jobs of 6 or 12 s)
 * the run could finish first on a busy machine, and `reset` then succeeded instead of being refused.
 */
function busyWorkload(books: number, pages: number, time: ReturnType<typeof speedableRealTime>) {
  return useEmulatedWorkload({
    emulator: { timeScale: 600, turnaroundMs: 3_600_000, seed: 31, realNow: time.now },
    workload: {
      books,
      pages,
      execution: { poll_interval: 50, max_concurrent_jobs: 2, max_requests_per_job: 2 },
    },
  });
}

describe('one run per store', () => {
  describe('after a SIGKILL', () => {
    const time = speedableRealTime(0);
    const workload = busyWorkload(4, 2, time);

    it('two `wavebatch run` started together after a SIGKILL: exactly one works, no job created twice', async () => {
      const { configPath, chains, emulator } = workload;
      const crashed = startRun(configPath);
      await crashed.busy;
      crashed.kill();
      await crashed.done;

      const runs = [startRun(configPath).done, startRun(configPath).done] as const;
      // The worker's jobs cannot end while time stands still, so the first to end is the one refused
      // (the other holds the lease); only then does time run, and the worker finish.
      void Promise.race(runs).then(() => time.speedUp(SPEED_UP));
      const [a, b] = await Promise.all(runs);
      const results = [a, b];
      const locked = results.filter((r) => r.code === 2);
      const worked = results.filter((r) => r.code === 0);
      expect(worked, JSON.stringify(results)).toHaveLength(1);
      expect(locked).toHaveLength(1);
      expect(locked[0]?.stderr).toContain('RUN_LOCKED');
      expect(worked[0]?.stdout).toContain('records: 8 done, 0 dead-lettered, 0 pending (8 total)');

      const billed = billedTimes(emulator);
      for (const id of chains.flat()) expect(billed.get(id), `billed once: ${id}`).toBe(1);
      const names = (await remoteJobs(emulator)).map((job) => job.displayName);
      expect(new Set(names).size).toBe(names.length);
    }, 120_000);
  });

  describe('while a run holds the store', () => {
    const time = speedableRealTime(0);
    const workload = busyWorkload(2, 1, time);

    it('refuses `reset --yes`, `requeue` and `clear-failures --yes` while a run holds the store; the run finishes, each record billed once', async () => {
      const { configPath, chains, emulator } = workload;
      const run = startRun(configPath);
      await run.busy;
      for (const args of [['reset', '--yes'], ['requeue'], ['clear-failures', '--yes']]) {
        const refused = await runCli([...args, '-c', configPath], { env: ENV });
        expect(refused.code, args.join(' ')).toBe(2);
        expect(refused.stderr).toContain('RUN_LOCKED');
        expect(refused.stderr).toContain(`pid ${run.pid}`);
      }
      time.speedUp(SPEED_UP);
      const finished = await run.done;
      expect(finished.code).toBe(0);
      expect(finished.stdout).toContain('records: 2 done, 0 dead-lettered, 0 pending (2 total)');
      const billed = billedTimes(emulator);
      for (const id of chains.flat()) expect(billed.get(id), `billed once: ${id}`).toBe(1);
      expect(emulator.ledger.entries()).toHaveLength(2);

      // Once the run is over, reset is allowed again.
      expect((await runCli(['reset', '--yes', '-c', configPath], { env: ENV })).code).toBe(0);
    }, 120_000);
  });
});
