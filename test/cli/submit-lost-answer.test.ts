import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { submitCommand } from '../../src/cli/commands/submit.js';
import { rawGet } from '../emulator/harness.js';
import { oneoffWorlds, request, type OneoffWorld } from './oneoff-fixture.js';

const MODEL = 'gemini-2.5-flash';
/** 1 real second = 1 emulated hour: a 1-minute turnaround is over in ~17 real ms. */
const FAST = { timeScale: 3600, turnaroundMs: 60_000 };

// A create whose answer was lost (Google created the job, then the connection was reset: the SDK
// saw a network error) failed `submit` with that error, and the user who submitted again made a
// second job, billed twice. Now an uploaded job is looked for by its input file and returned; an
// inline one, which nothing tells apart, fails saying the job may exist and to check `wavebatch jobs`.
describe('a submit whose create answer was lost', () => {
  const startWorld = oneoffWorlds();

  /** The project's jobs as the emulator lists them over HTTP. */
  async function listedJobs(w: OneoffWorld): Promise<Array<{ name: string }>> {
    const { body } = await rawGet(w.emulator, 'batches');
    return (body.operations ?? []) as Array<{ name: string }>;
  }

  async function requestsFile(w: OneoffWorld): Promise<string> {
    const input = join(w.dir, 'prompts.jsonl');
    await writeFile(
      input,
      [
        { key: 'a', request: request('one') },
        { key: 'b', request: request('two') },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    return input;
  }

  it('by upload finds the job it made by its input file and prints it: one job, each request billed once', async () => {
    const w = await startWorld({
      ...FAST,
      faults: { http: [{ kind: 'reset_mid_body', match: 'create', count: 1 }] },
    });
    const input = await requestsFile(w);

    const printed = (await w.run(submitCommand, [input, '-m', MODEL, '--upload'])).trim();
    expect(w.emulator.httpFaultsFired(), 'the answer was lost').toEqual([1]);
    const jobs = await listedJobs(w);
    expect(jobs.map((job) => job.name)).toEqual([printed]);
    await w.waitFor(printed, ['SUCCEEDED']);
    expect(
      w.emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('inline fails saying the job may exist and to check `wavebatch jobs`, and makes no second one', async () => {
    const w = await startWorld({
      ...FAST,
      faults: { http: [{ kind: 'reset_mid_body', match: 'create', count: 1 }] },
    });
    const input = await requestsFile(w);

    const failed = await w.fail(submitCommand, [input, '-m', MODEL, '--inline']);
    expect(failed).toMatchObject({ exitCode: 1, error: { code: 'JOB_OUTCOME_UNKNOWN' } });
    expect(failed.error.message).toContain('Google may have created it');
    expect(failed.error.message).toContain(
      'Check `wavebatch jobs` for a job named "wavebatch-submit-prompts"',
    );
    expect(failed.stderr).toContain('wavebatch jobs');
    const jobs = await listedJobs(w);
    expect(jobs).toHaveLength(1);
    await w.waitFor(jobs[0]?.name ?? '', ['SUCCEEDED']);
    expect(w.emulator.ledger.entries()).toHaveLength(2);
  });

  it('by upload, after a 503 that made no job, is created again, not mistaken for an earlier job of its display name', async () => {
    const w = await startWorld(FAST);
    const input = await requestsFile(w);
    const earlier = (await w.run(submitCommand, [input, '-m', MODEL, '--upload'])).trim();
    // A 503 may or may not have created the job: this one did not, and the job of the same display
    // name already there reads another upload.
    w.emulator.setFaults({ http: [{ kind: 'status_503', match: 'create', count: 1 }] });

    const printed = (await w.run(submitCommand, [input, '-m', MODEL, '--upload'])).trim();
    expect(w.emulator.httpFaultsFired()).toEqual([1]);
    expect(printed).not.toBe(earlier);
    expect((await listedJobs(w)).map((job) => job.name).sort()).toEqual([earlier, printed].sort());
  });
});
