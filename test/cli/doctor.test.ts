import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { jobNamePrefix } from '../../src/planner/job-name.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { speedableRealTime } from '../fixtures/emulator-clock.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';
import { openEmulatedSession } from '../fixtures/session.js';

const ENV = { GEMINI_API_KEY: 'doctor-test-key' };

// A store left in the state crashes leave behind, plus what other processes left remotely; doctor
// must name each problem and what --fix does, repair them all, and leave a state a run finishes from.
describe('wavebatch doctor', () => {
  // The emulator's clock stands still until --fix is done: the first job and the orphan still run
  // while doctor looks, however long a loaded machine takes (at real time the orphan's hour, 6 s,
  // ran out before --fix on a busy machine, which then repaired 4 problems). It then runs: the
  // run's jobs take an emulated hour, 0.1 s real.
  const time = speedableRealTime(0);
  const workload = useEmulatedWorkload({
    emulator: { timeScale: 600, turnaroundMs: 3_600_000, seed: 51, realNow: time.now },
    workload: { books: 3, pages: 2, execution: { max_concurrent_jobs: 1, max_requests_per_job: 1 } },
  });
  let emulator: RunningEmulator;
  let orphanJob = '';
  let orphanFile = '';

  beforeAll(async () => {
    emulator = workload.emulator;
    // One pass: the first record goes out in a job; two chain heads stay ready.
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    await session.runner.runOnce();
    await session.close();

    const store = new SqliteStore({ path: join(workload.root, 'state', 'state.db') });
    const prefix = jobNamePrefix('test', await store.storeId());
    const [, second, third] = workload.chains.map((chain) => chain[0] as string);
    // A crash between storing an intent and creating its job.
    await store.createJobIntent({
      id: `${prefix}${'1'.repeat(20)}`,
      model: 'gemini-2.5-flash',
      kind: 'inline',
      members: [{ recordId: second as string, attempt: 0, promptHash: 'h', estimatedTokens: 10 }],
    });
    // A crash between a job's end and the release of its records.
    await store.createJobIntent({
      id: `${prefix}${'2'.repeat(20)}`,
      model: 'gemini-2.5-flash',
      kind: 'inline',
      members: [{ recordId: third as string, attempt: 0, promptHash: 'h', estimatedTokens: 10 }],
    });
    await store.updateJobState(`${prefix}${'2'.repeat(20)}`, 'failed');
    // A lease left by a process that was killed.
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
    );
    await store.acquireLease(
      { owner: 'killed', pid: dead, hostname: hostname(), purpose: 'run', now: Date.now(), ttlMs: 600_000 },
      () => false,
    );
    await store.close();

    // A job and an uploaded input named by this store that the store does not know.
    const ai = new GoogleGenAI({ apiKey: 'x', apiVersion: 'v1beta', httpOptions: { baseUrl: emulator.url } });
    const job = await ai.batches.create({
      model: 'gemini-2.5-flash',
      src: [{ contents: [{ role: 'user', parts: [{ text: 'lost' }] }], metadata: { key: 'lost' } }],
      config: { displayName: `${prefix}${'3'.repeat(20)}` },
    });
    orphanJob = job.name ?? '';
    const input = join(workload.root, 'input.jsonl');
    writeFileSync(
      input,
      `${JSON.stringify({ key: 'k', request: { contents: [{ parts: [{ text: 'x' }] }] } })}\n`,
    );
    const file = await ai.files.upload({
      file: input,
      config: { mimeType: 'jsonl', displayName: `${prefix}${'4'.repeat(20)}` },
    });
    orphanFile = file.name ?? '';
  });

  it('names every problem and what --fix would do, and changes nothing', async () => {
    const result = await runCli(['doctor', '-c', workload.configPath], { env: ENV });
    expect(result.code, result.stderr).toBe(1);
    const out = result.stdout;
    expect(out).toMatch(/store\s+ok/);
    expect(out).toMatch(/lease\s+PROBLEM .*its process is gone/);
    expect(out).toMatch(/intents\s+PROBLEM .*1{20} \(1 records\) was never created remotely/);
    expect(out).toMatch(/in-flight\s+PROBLEM\s+1 records are in flight in a job that is no longer active/);
    expect(out).toContain(`${orphanJob} (`);
    expect(out).toContain(`${orphanFile} (`);
    expect(out).toContain('--fix: cancel it');
    expect(out).toContain('5 problems; `wavebatch doctor --fix` repairs them');
    // Read-only: the orphan still runs.
    expect((await remoteJobs(emulator)).find((job) => job.name === orphanJob)?.state).not.toBe(
      'JOB_STATE_CANCELLED',
    );
  });

  it('--fix repairs them all; a second look finds nothing; the run then bills every record once', async () => {
    const fixed = await runCli(['doctor', '--fix', '-c', workload.configPath], { env: ENV });
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('repaired 5 problems');
    expect((await remoteJobs(emulator)).find((job) => job.name === orphanJob)?.state).toBe(
      'JOB_STATE_CANCELLED',
    );
    const files = await new GoogleGenAI({
      apiKey: 'x',
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: emulator.url },
    }).files
      .get({ name: orphanFile })
      .then(
        () => 'there',
        () => 'gone',
      );
    expect(files).toBe('gone');

    const again = await runCli(['doctor', '--json', '-c', workload.configPath], { env: ENV });
    expect(again.code).toBe(0);
    const findings = JSON.parse(again.stdout) as Array<{ ok: boolean }>;
    expect(findings.every((finding) => finding.ok)).toBe(true);

    // The rest in wider jobs, so it takes two job round trips.
    time.speedUp(60);
    writeFileSync(
      workload.configPath,
      readFileSync(workload.configPath, 'utf8')
        .replace('max_concurrent_jobs: 1', 'max_concurrent_jobs: 3')
        .replace('max_requests_per_job: 1', 'max_requests_per_job: 4'),
    );
    const run = await runCli(['run', '-c', workload.configPath], { env: ENV });
    expect(run.code, run.stderr).toBe(0);
    const billed = billedTimes(emulator);
    for (const id of workload.chains.flat()) expect(billed.get(id), `billed once: ${id}`).toBe(1);
    expect(billed.get('lost')).toBeUndefined();
  }, 120_000);
});

// doctor on a workload that never ran opened (so created) state/state.db and said "nothing needs
// attention", also without an API key, so the first run then stopped at API_KEY_MISSING.
describe('wavebatch doctor on a workload that has never run', () => {
  let workload: ReturnType<typeof writeCatalogWorkload>;

  beforeAll(() => {
    workload = writeCatalogWorkload({ books: 1, pages: 1 });
  });
  afterAll(() => rmSync(workload.root, { recursive: true, force: true }));

  it('creates no state, says it never ran, and that no API key is set (exit 1)', async () => {
    const result = await runCli(['doctor', '-c', workload.configPath], { env: {} });
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(result.stdout).toMatch(/store\s+ok\s+none: the workload has never run \(no .*state\.db;/);
    expect(result.stdout).toMatch(/api-key\s+PROBLEM\s+no API key: set GEMINI_API_KEY/);
    expect(result.stdout).not.toContain('nothing needs attention');
    // One problem is one ("1 problems" it said).
    expect(result.stdout.endsWith('\n1 problem\n')).toBe(true);
    expect(existsSync(join(workload.root, 'state'))).toBe(false);
  });

  it('with a key set, nothing needs attention; the key is named by its variable, never shown', async () => {
    const result = await runCli(['doctor', '-c', workload.configPath], { env: ENV });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/api-key\s+ok\s+set \(GEMINI_API_KEY\)/);
    expect(result.stdout).toContain('nothing needs attention');
    expect(result.stdout).not.toContain(ENV.GEMINI_API_KEY);
    const json = await runCli(['doctor', '--json', '--fix', '-c', workload.configPath], { env: ENV });
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Array<{ check: string }>).map((finding) => finding.check)).toEqual([
      'store',
      'api-key',
    ]);
    expect(existsSync(join(workload.root, 'state'))).toBe(false);
  });
});

// doctor on a state store SQLite cannot read ended with the STORE_CORRUPT error alone: its findings
// (the store's, the API key's) unsaid, and --json printed nothing to parse.
describe('wavebatch doctor on a state store that is not a database', () => {
  let workload: ReturnType<typeof writeCatalogWorkload>;

  beforeAll(() => {
    workload = writeCatalogWorkload({ books: 1, pages: 1 });
    mkdirSync(join(workload.root, 'state'));
    writeFileSync(join(workload.root, 'state', 'state.db'), 'not a database, not at all, no\n');
  });
  afterAll(() => rmSync(workload.root, { recursive: true, force: true }));

  it('reports it as the store problem (exit 1), with the way out, beside its other findings', async () => {
    const result = await runCli(['doctor', '-c', workload.configPath], { env: ENV });
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(result.stdout).toMatch(
      /store\s+PROBLEM\s+The state store \S+state\.db is not a readable SQLite database \(SQLITE_NOTADB\).*Move it aside/,
    );
    expect(result.stdout).toMatch(/api-key\s+ok\s+set \(GEMINI_API_KEY\)/);
    expect(result.stdout.endsWith('\n1 problem\n')).toBe(true);
    const json = await runCli(['doctor', '--json', '-c', workload.configPath], { env: ENV });
    expect(json.code).toBe(1);
    expect(
      (JSON.parse(json.stdout) as Array<{ check: string; ok: boolean }>).map(({ check, ok }) => [check, ok]),
    ).toEqual([
      ['store', false],
      ['api-key', true],
    ]);
  });
});

// doctor on a workload that had run, without a key, said "remote jobs and files not checked" as ok and
// exited 0, while on a never-run workload the same missing key was a problem (exit 1).
describe('wavebatch doctor on a workload that has run, without an API key', () => {
  const workload = useEmulatedWorkload({
    emulator: { timeScale: 600, turnaroundMs: 60_000, seed: 52 },
    workload: { books: 1, pages: 1 },
  });

  beforeAll(async () => {
    const run = await runCli(['run', '-c', workload.configPath], { env: {} });
    expect(run.code, run.stderr).toBe(0);
    // The emulator's address gone from the config: the next run would need a key.
    workload.editConfig(`api:\n  base_url: ${workload.emulator.url}`, '');
  }, 60_000);

  it('reports the missing key as a problem (exit 1), as on a never-run workload', async () => {
    const result = await runCli(['doctor', '-c', workload.configPath], { env: {} });
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(result.stdout).toMatch(/store\s+ok\s+the state store passes/);
    expect(result.stdout).toMatch(/api-key\s+PROBLEM\s+no API key: set GEMINI_API_KEY/);
    expect(result.stdout).not.toContain('nothing needs attention');
  });
});
