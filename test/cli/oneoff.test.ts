import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { cancelCommand } from '../../src/cli/commands/cancel.js';
import { fetchCommand } from '../../src/cli/commands/fetch.js';
import { jobsCommand } from '../../src/cli/commands/jobs.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { submitCommand } from '../../src/cli/commands/submit.js';
import { sdkFor } from '../emulator/harness.js';
import { startRecordingProxy } from '../fixtures/recording-proxy.js';
import { exitCodeOf, oneoffWorlds, request, SECRET_KEY, type OneoffWorld } from './oneoff-fixture.js';

const MODEL = 'gemini-2.5-flash';

const startWorld = oneoffWorlds();

/** Writes a JSONL of `{key, request}` lines and submits it; returns the job name. */
async function submit(w: OneoffWorld, file: string, keys: string[], extra: string[] = []): Promise<string> {
  const path = join(w.dir, file);
  await writeFile(
    path,
    keys.map((key) => `${JSON.stringify({ key, request: request(`Describe ${key}.`) })}\n`).join(''),
  );
  return (await w.run(submitCommand, [path, '-m', MODEL, ...extra])).trim();
}

interface ResultLine {
  key: string;
  response?: { candidates?: unknown[] };
  error?: { code: number; status: string; message: string };
}

async function resultLines(path: string): Promise<ResultLine[]> {
  const text = await readFile(path, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ResultLine)
    .sort((a, b) => a.key.localeCompare(b.key));
}

const idOf = (name: string) => name.slice('batches/'.length);

describe('wavebatch jobs / status / fetch / cancel against the emulator', () => {
  it('jobs --state filters a listing that spans several pages', async () => {
    // Real time and a 1 h turnaround: every job stays PENDING for the whole test (60 s of queueing).
    const w = await startWorld({ timeScale: 1, turnaroundMs: 3_600_000 });
    const ai = sdkFor(w.emulator);
    const names: string[] = [];
    for (let i = 0; i < 60; i++) {
      const job = await ai.batches.create({
        model: MODEL,
        src: [{ ...request(`job ${i}`), metadata: { key: 'k' } }],
        config: { displayName: `job-${i}` },
      });
      names.push(job.name ?? '');
    }
    const cancelled = names.filter((_, i) => i % 3 === 0);
    await Promise.all(cancelled.map((name) => ai.batches.cancel({ name })));

    const listed = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[0]);
    // The API lists 50 per page, newest first; the listing must hold all 60 in that order.
    expect(listed(await w.run(jobsCommand, []))).toEqual([...names].reverse());
    expect(listed(await w.run(jobsCommand, ['--state', 'cancelled']))).toEqual([...cancelled].reverse());
    const pending = listed(await w.run(jobsCommand, ['--state', 'pending']));
    expect(pending).toHaveLength(40);
    expect(pending).toContain(names[1]); // the oldest jobs are on the second page
    expect(pending).not.toContain(names[0]);
    expect(await w.run(jobsCommand, ['--state', 'succeeded'])).toBe('no succeeded jobs\n');
    expect(JSON.parse(await w.run(jobsCommand, ['--state', 'running', '--json']))).toEqual([]);
    await expect(w.run(jobsCommand, ['--state', 'done'])).rejects.toBeInstanceOf(CommanderError);
  });

  it('status shows a running job with its pending count; fetch says not ready; cancel ends it', async () => {
    // 1 real second = 1 emulated hour: a 40 h turnaround keeps the job RUNNING from ~17 ms to ~40 s.
    const w = await startWorld({ timeScale: 3600, turnaroundMs: 40 * 3_600_000 });
    const name = await submit(w, 'slow.jsonl', ['a', 'b', 'c']);
    await w.waitFor(name, ['RUNNING']);

    const status = await w.run(statusCommand, [name]);
    expect(status).toContain(`${name}  RUNNING`);
    expect(status).toContain('requests      3 total, 0 succeeded, 0 failed, 3 pending');
    expect(JSON.parse(await w.run(statusCommand, [idOf(name), '--json']))).toMatchObject({
      name,
      state: 'running',
      stats: { requestCount: 3, pendingRequestCount: 3 },
    });

    const out = join(w.dir, 'out');
    expect(await w.run(fetchCommand, [name, '--out', out])).toBe(
      `${name}: not ready, still running; fetch again when it has succeeded\n`,
    );
    expect(await w.run(fetchCommand, ['--all-pending', '--out', out])).toBe(
      '1 job is still pending or running, not ready; fetch again later\nnothing new to fetch\n',
    );
    expect(await readdir(out)).toEqual([]);

    expect(await w.run(cancelCommand, [name])).toBe(`${name}: cancelled\n`);
    expect(await w.run(statusCommand, [name])).toContain(`${name}  CANCELLED`);
    expect(await w.run(cancelCommand, [idOf(name)])).toBe(`${name}: already cancelled; nothing to cancel\n`);
    const fetched = await w.fail(fetchCommand, [name, '--out', out]);
    expect(fetched).toMatchObject({ exitCode: 1, error: { code: 'JOB_ENDED_WITHOUT_RESULTS' } });
    expect(fetched.error.message).toContain(`${name}: CANCELLED`);
    expect(w.emulator.ledger.entries()).toEqual([]); // nothing ran, nothing billed
  });

  it('fetches one, several and --all-pending finished jobs, keeps per-line errors, and reports a FAILED job', async () => {
    const w = await startWorld({
      timeScale: 3600,
      turnaroundMs: 60_000,
      faults: {
        byKey: { 'inline-bad': ['request_error'], 'file-bad': ['request_error'] },
        jobSequence: ['none', 'none', 'job_failed'],
      },
    });
    const inline = await submit(w, 'inline.jsonl', ['inline-ok', 'inline-bad']);
    const file = await submit(w, 'file.jsonl', ['file-ok', 'file-bad'], ['--upload']);
    const failed = await submit(w, 'doomed.jsonl', ['doomed']);
    for (const name of [inline, file, failed]) await w.waitFor(name, ['SUCCEEDED', 'FAILED']);

    const status = await w.run(statusCommand, [file]);
    expect(status).toContain(`${file}  SUCCEEDED`);
    expect(status).toContain('requests      2 total, 1 succeeded, 1 failed, 0 pending');
    expect(status).toContain(`next          wavebatch fetch ${file}`);
    const failedStatus = await w.run(statusCommand, [failed]);
    expect(failedStatus).toContain(`${failed}  FAILED`);
    expect(failedStatus).toMatch(/error {9}The batch job failed/);

    // One job: the results file, error lines kept as the API wrote them.
    const one = join(w.dir, 'one');
    expect(await w.run(fetchCommand, [file, '-o', one])).toBe(
      `${file}: 2 results (1 failed) -> ${join(one, `${idOf(file)}.jsonl`)}\n`,
    );
    const fileLines = await resultLines(join(one, `${idOf(file)}.jsonl`));
    expect(fileLines.map((line) => line.key)).toEqual(['file-bad', 'file-ok']);
    expect(fileLines[0]).toMatchObject({ error: { code: 13 } }); // gRPC INTERNAL, as Google writes it
    expect(fileLines[1]?.response?.candidates).toHaveLength(1);

    // Several jobs, one of them FAILED: the others are written, then the failure is the command's error.
    const several = join(w.dir, 'several');
    const mixed = await w.fail(fetchCommand, [inline, failed, file, '--out', several]);
    expect(mixed).toMatchObject({ exitCode: 1, error: { code: 'JOB_ENDED_WITHOUT_RESULTS' } });
    expect(mixed.stderr).toMatch(new RegExp(`${failed}: FAILED \\(The batch job failed[^)]*\\)`));
    expect(mixed.stderr).toContain('resubmit them with `wavebatch submit`');
    expect((await readdir(several)).sort()).toEqual([`${idOf(file)}.jsonl`, `${idOf(inline)}.jsonl`].sort());
    const inlineLines = await resultLines(join(several, `${idOf(inline)}.jsonl`));
    expect(inlineLines.map((line) => line.key)).toEqual(['inline-bad', 'inline-ok']);
    expect(inlineLines[0]).toMatchObject({ error: { code: 13 } });
    expect(inlineLines[1]?.response?.candidates).toHaveLength(1);

    // --all-pending: every succeeded job not yet in --out, and nothing the second time.
    const all = join(w.dir, 'all');
    await w.run(fetchCommand, [inline, '-o', all]);
    expect(await w.run(fetchCommand, ['--all-pending', '-o', all])).toBe(
      `${file}: 2 results (1 failed) -> ${join(all, `${idOf(file)}.jsonl`)}\n`,
    );
    expect((await readdir(all)).sort()).toEqual([`${idOf(file)}.jsonl`, `${idOf(inline)}.jsonl`].sort());
    expect(await w.run(fetchCommand, ['--all-pending', '-o', all])).toBe('nothing new to fetch\n');
    expect(await w.run(cancelCommand, [file])).toBe(`${file}: already succeeded; nothing to cancel\n`);
  });

  it('answers unknown or malformed job names, and a missing key, with clear input errors (exit code 2)', async () => {
    const w = await startWorld({ timeScale: 3600, turnaroundMs: 60_000 });
    for (const command of [statusCommand, cancelCommand, fetchCommand]) {
      const { error, exitCode, stderr } = await w.fail(command, ['batches/doesnotexist']);
      expect(error).toMatchObject({ code: 'INPUT_JOB_NOT_FOUND' });
      expect(exitCode).toBe(2);
      expect(stderr).toBe(
        "error [INPUT_JOB_NOT_FOUND]: No batch job batches/doesnotexist in this project; list the project's jobs with `wavebatch jobs` and check the name.\n",
      );
    }
    const malformed = await w.fail(statusCommand, ['batches/../x']);
    expect(malformed).toMatchObject({ exitCode: 2, error: { code: 'INPUT_INVALID' } });
    const nothing = await w.fail(fetchCommand, ['--out', w.dir]);
    expect(nothing.error.message).toContain('Name the jobs to fetch, or pass --all-pending');

    w.deps.env = {};
    const noKey = await w.fail(jobsCommand, []);
    expect(noKey).toMatchObject({ exitCode: 2, error: { code: 'API_KEY_MISSING' } });
    // With only a base URL (the emulator), no key is needed.
    expect(await w.run(jobsCommand, ['--base-url', w.emulator.url])).toBe('no jobs\n');
    w.deps.env = { GEMINI_API_KEY: SECRET_KEY };
    const badUrl = await w.fail(jobsCommand, ['--base-url', 'localhost:1']);
    expect(badUrl).toMatchObject({ exitCode: 2, error: { code: 'INPUT_INVALID' } });
    // An unreachable endpoint is a network error (exit 1) that names the fix, not the key.
    const unreachable = await w.fail(statusCommand, ['batches/x', '--base-url', 'http://127.0.0.1:9']);
    expect(unreachable).toMatchObject({ exitCode: 1, error: { code: 'NETWORK' } });
    expect(exitCodeOf(unreachable.error).stderr).toContain('--base-url');
  });
  // fetch --all-pending names each file after the job's name as the API lists it: an API at a base
  // URL that is not Google's could list `batches/../../x` and have results written outside --out.
  it('--all-pending skips a listed job whose name is no plain batch id, and writes only under --out', async () => {
    const w = await startWorld({ timeScale: 3600, turnaroundMs: 60_000 });
    const name = await submit(w, 'plain.jsonl', ['plain']);
    await w.waitFor(name, ['SUCCEEDED']);
    // An API whose job listings carry one more succeeded job, under a name that climbs out of --out.
    const escaped = 'batches/../../escaped';
    const hostile = await startRecordingProxy(w.emulator.url, {
      rewrite: (call, body) => {
        const page = body as { operations?: Array<Record<string, unknown>> };
        const first = page.operations?.[0];
        if (call.method !== 'GET' || !/\/batches(\?|$)/.test(call.path) || !first) return undefined;
        const metadata = { ...(first.metadata as Record<string, unknown>), name: escaped };
        return { ...page, operations: [...(page.operations ?? []), { ...first, name: escaped, metadata }] };
      },
    });
    try {
      const out = join(w.dir, 'deep', 'out');
      const printed = await w.run(fetchCommand, ['--all-pending', '-o', out, '--base-url', hostile.url]);
      expect(printed).toContain('skipped "batches/../../escaped": not a batch job name');
      expect(printed).toContain(`${name}: `);
      expect(await readdir(out)).toEqual([`${idOf(name)}.jsonl`]);
      expect(await readdir(dirname(out))).toEqual(['out']);
      expect((await readdir(w.dir)).sort()).toEqual(['deep', 'plain.jsonl']);
    } finally {
      await hostile.close();
    }
  });
});
