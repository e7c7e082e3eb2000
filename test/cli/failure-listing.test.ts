import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { BIN, runCli, type CliResult } from '../fixtures/cli.js';

const env = { GEMINI_API_KEY: 'failure-listing-test-key' };

/** Runs a bash pipeline with pipefail, so its exit code is wavebatch's when `head` succeeds. */
function pipeline(script: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -o pipefail; ${script}`], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// `failures` and `requeue` as scripts use them: empty answers, wrong ids, and a reader that stops early.
describe('wavebatch failures / requeue output', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 13 });
    // 150 one-page chains: enough failure rows (about 150 kB of JSON Lines) to overflow a pipe.
    const workload = writeCatalogWorkload({
      books: 150,
      pages: 1,
      execution: { max_retries: 0, max_requests_per_job: 1000, poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    configPath = workload.configPath;
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('says so when there are no failures', async () => {
    const none = await runCli(['failures', '-c', configPath], { env });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('no failures recorded\n');
    const noDead = await runCli(['failures', '--dead', '-c', configPath], { env });
    expect(noDead.stdout).toBe('no dead letters\n');
    const byCause = await runCli(['failures', '--by-cause', '-c', configPath], { env });
    expect(byCause.stdout).toBe('no failures recorded\n');
  });

  it('exits 3 after a run that dead-letters records', async () => {
    emulator.setFaults({ rates: { safety: 1 } });
    const result = await runCli(['run', '-c', configPath], { env });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('records: 0 done, 150 dead-lettered, 0 pending (150 total)');
  });

  it('refuses to requeue unknown ids or records that are not dead letters, naming them, and changes nothing', async () => {
    const result = await runCli(
      ['requeue', 'no/such-id', 'ST/school1/1900/page_1', 'also/missing', '-c', configPath],
      {
        env,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown record ids: no/such-id, also/missing');
    expect(result.stdout).toBe('');
    const dead = await runCli(['failures', '--dead', '--export', 'jsonl', '-c', configPath], { env });
    expect(dead.stdout.trim().split('\n')).toHaveLength(150);

    const one = await runCli(['requeue', 'ST/school1/1900/page_1', '-c', configPath], { env });
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('requeued 1 records');
    const notDead = await runCli(['requeue', 'ST/school1/1900/page_1', '-c', configPath], { env });
    expect(notDead.code).toBe(2);
    expect(notDead.stderr).toContain('not dead-lettered: ST/school1/1900/page_1 (');
  });

  it('exits quietly when the reader of a pipe stops early (| head)', async () => {
    const result = await pipeline(
      `"${process.execPath}" "${BIN}" failures --export jsonl -c "${configPath}" | head -n 1`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ cause: 'safety', final: true });
  });
});
