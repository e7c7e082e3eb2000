import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli, startCli } from '../fixtures/cli.js';
import { closedPort } from '../fixtures/closed-port.js';

const env = { GEMINI_API_KEY: 'exit-code-test-key' };

// Exit codes through the real bin in a child process (the README's exit-code table).
describe('exit codes', () => {
  // Jobs take an hour of real time here, so they stay PENDING while a run is interrupted.
  let emulator: RunningEmulator;
  const roots: string[] = [];

  /** A 2-book, 2-page workload (its first pages make one job) without api.base_url. */
  function workload(): string {
    const made = writeCatalogWorkload({ books: 2, pages: 2, execution: { poll_interval: 20 } });
    roots.push(made.root);
    return made.configPath;
  }

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 1, turnaroundMs: 3_600_000, seed: 5 });
  });

  afterAll(async () => {
    await emulator.close();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it('run-once exits 1 when the API is unreachable and does not count the uncreated job as active', async () => {
    const port = await closedPort();
    const result = await runCli(['run-once', '-c', workload(), '--base-url', `http://127.0.0.1:${port}`], {
      env,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('jobs: 0 submitted this run, 0 still active');
    expect(result.stdout).toContain('1 job not confirmed created');
    expect(result.stderr).toContain('Could not reach the API');
  });

  it('run-once takes the API address from WAVEBATCH_BASE_URL, and --base-url over it', async () => {
    const configPath = workload();
    const first = await runCli(['run-once', '-c', configPath], {
      env: { ...env, WAVEBATCH_BASE_URL: emulator.url },
    });
    expect(first.stderr).not.toContain('warning');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('jobs: 1 submitted this run, 1 still active');

    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    const second = await runCli(['run-once', '-c', configPath, '--base-url', emulator.url], {
      env: { ...env, WAVEBATCH_BASE_URL: unreachable },
    });
    expect(second.stderr).not.toContain('warning');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('jobs: 0 submitted this run, 1 still active');

    const bad = await runCli(['run-once', '-c', configPath, '--base-url', 'ftp://example.com'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--base-url must be an http(s) URL');
    const withKey = await runCli(['run-once', '-c', configPath], {
      env: { ...env, WAVEBATCH_BASE_URL: 'http://user:hunter2-secret@127.0.0.1:9' },
    });
    expect(withKey.code).toBe(2);
    expect(withKey.stderr).toContain('WAVEBATCH_BASE_URL must not hold credentials');
    expect(withKey.stderr).not.toContain('hunter2-secret');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s stops a run after saving its state (exit %i); the next pass finds its job and creates none',
    async (signal, code) => {
      const configPath = workload();
      const running = startCli(['run', '-c', configPath, '--base-url', emulator.url], { env });
      await running.stderrContains('submitted inline job');
      running.child.kill(signal);
      const stopped = await running.result;
      expect(stopped.code).toBe(code);
      expect(stopped.stderr).toContain(`${signal}: stopping after the current step`);
      expect(stopped.stderr).toContain('stopped with its state saved');
      expect(stopped.stdout).toContain('records: 0 done, 0 dead-lettered, 4 pending (4 total)');

      const next = await runCli(['run-once', '-c', configPath, '--base-url', emulator.url], { env });
      expect(next.code).toBe(0);
      expect(next.stdout).toContain('jobs: 0 submitted this run, 1 still active');
    },
  );

  it('exits 2 for usage errors: unknown command or option, an invalid option value', async () => {
    const unknownCommand = await runCli(['frobnicate']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'frobnicate'");

    const unknownOption = await runCli(['run', '--frobnicate']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--frobnicate'");

    const badLimit = await runCli(['failures', '--limit', 'abc', '-c', workload()]);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('--limit must be a positive whole number');

    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
  });
});
