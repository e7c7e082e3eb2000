import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { createGeminiClient } from '../../src/gemini/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { startCli } from '../fixtures/cli.js';
import { startRecordingProxy } from '../fixtures/recording-proxy.js';

/** A run that has not ended after this long loops: it is killed and the case fails. */
const BOUND_MS = 60_000;
const ENV = { GEMINI_API_KEY: 'too-large-test-key' };
/** The front end's body limit: a few of the workload's requests, far less than the oversized page. */
const LIMIT_BYTES = 3000;
const BOOKS = 8;
const OVERSIZED = 'ST/school3/1900/page_1';

// A batch create (or the upload of its input) refused with 413 Request Entity Too Large was read as
// an unknown failure: the same job was packed again at the same size at every try until its records
// were dead-lettered. Now an inline job goes again as an uploaded file, a file job in halves, and a
// request too large alone is dead-lettered alone, naming its size and the limit.
describe('a batch job the API refuses as too large (413)', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  /** An emulator holding request bodies to LIMIT_BYTES, as Google's front end does. */
  const emulatorHolding = (seed: number) =>
    startEmulator({ timeScale: 3600, turnaroundMs: 30_000, seed, maxRequestBytes: LIMIT_BYTES });

  /**
   * BOOKS one-page books sent to `baseUrl`, one page far larger than LIMIT_BYTES. A job takes 8 real
   * ms here: a pass every 200 ms, not every second, for the several passes the splits take.
   */
  function oversizedWorkload(baseUrl: string, execution: Record<string, unknown> = {}) {
    const workload = writeCatalogWorkload({
      books: BOOKS,
      pages: 1,
      execution: { max_retries: 1, max_requests_per_job: BOOKS, poll_interval: '200ms', ...execution },
      extraYaml: `api:\n  base_url: ${baseUrl}`,
    });
    roots.push(workload.root);
    writeFileSync(
      join(workload.root, 'dataset', `${OVERSIZED}.txt`),
      `${'Latin 101, Greek 102. '.repeat(400)}\n`,
    );
    return workload;
  }

  /** `wavebatch run` to its end, killed (and so failing its case) if it loops past BOUND_MS. */
  async function runToEnd(configPath: string) {
    const run = startCli(['run', '-c', configPath], { env: ENV });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
    return run.result.finally(() => clearTimeout(timer));
  }

  /** `wavebatch failures --json`. */
  async function failuresOf(configPath: string) {
    const listed = await startCli(['failures', '-c', configPath, '--json'], { env: ENV }).result;
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as Array<{
      recordId: string;
      cause: string;
      final: boolean;
      message: string;
    }>;
  }

  it(
    'is sent again smaller until every record is done, but the one too large alone: each billed once',
    async () => {
      const emulator = await emulatorHolding(41);
      const proxy = await startRecordingProxy(emulator.url);
      try {
        const workload = oversizedWorkload(proxy.url);
        const result = await runToEnd(workload.configPath);
        const output = `${result.stdout}\n${result.stderr}`;
        expect(result.code, output).toBe(3);

        const refused = proxy.calls().filter((call) => call.status === 413);
        expect(refused.length, 'creates and uploads refused with 413').toBeGreaterThan(0);

        const failures = await failuresOf(workload.configPath);
        // Only the oversized page failed, once, for good: the splits counted no attempt.
        expect(failures.map(({ recordId, cause, final }) => ({ recordId, cause, final }))).toEqual([
          { recordId: OVERSIZED, cause: 'too_large', final: true },
        ]);
        expect(failures[0]?.message).toMatch(/\d+ bytes/);
        expect(failures[0]?.message).toMatch(/HTTP 413/);
        expect(failures[0]?.message).not.toMatch(/retry later/i);

        const billed = emulator.ledger.entries().map((entry) => entry.key ?? entry.promptText);
        expect(new Set(billed).size, 'each record billed once').toBe(billed.length);
        expect(billed.length).toBe(BOOKS - 1);
        // No job created twice: every remote job's display name is its own.
        const names: string[] = [];
        const api = createGeminiClient({ apiKey: ENV.GEMINI_API_KEY, baseUrl: emulator.url });
        for await (const job of api.listBatches()) names.push(job.displayName ?? '');
        expect(names.length).toBeGreaterThan(1);
        expect(new Set(names).size).toBe(names.length);
      } finally {
        await proxy.close();
        await emulator.close();
      }
    },
    BOUND_MS + 20_000,
  );
  it(
    'with records_per_request, splits a grouped request refused alone into halves, down to the record too large alone',
    async () => {
      const emulator = await emulatorHolding(43);
      try {
        const workload = oversizedWorkload(emulator.url, { records_per_request: 4 });
        writeFileSync(
          join(workload.root, 'prompts', 'page', 'v1.jinja'),
          '{% for r in records %}Item {{ r.id }}: transcribe page {{ r.page }} of {{ r.school }}.\n{% endfor %}',
        );
        const result = await runToEnd(workload.configPath);
        const output = `${result.stdout}\n${result.stderr}`;
        expect(result.code, output).toBe(3);
        expect(output).toContain('they go again in requests of at most 2 records each');
        expect(output).toContain('they go again in requests of at most 1 record each');

        const failures = await failuresOf(workload.configPath);
        // Only the oversized page failed, for good: its group's neighbours went on in smaller groups.
        expect(failures.map(({ recordId, cause, final }) => ({ recordId, cause, final }))).toEqual([
          { recordId: OVERSIZED, cause: 'too_large', final: true },
        ]);

        // Each done record is in exactly one billed request.
        const billed = emulator.ledger
          .entries()
          .flatMap((entry) => [...entry.promptText.matchAll(/^Item (\S+):/gm)].map((match) => match[1]));
        expect(billed.filter((id) => id === OVERSIZED)).toEqual([]);
        expect(new Set(billed).size, 'each record billed once').toBe(billed.length);
        expect(billed.length).toBe(BOOKS - 1);
      } finally {
        await emulator.close();
      }
    },
    BOUND_MS + 20_000,
  );
  it(
    'killed right after a split, packs the records at full size again on the next run: refused once more, nothing billed twice',
    async () => {
      const emulator = await emulatorHolding(47);
      const proxy = await startRecordingProxy(emulator.url);
      try {
        const workload = oversizedWorkload(proxy.url);
        // Killed as soon as it says it splits a refused job: the split plan dies with it.
        const killed = startCli(['run', '-c', workload.configPath], { env: ENV });
        let said = '';
        killed.child.stderr?.on('data', (chunk: string) => {
          said += chunk;
          if (/as too large \(HTTP 413\)/.test(said)) killed.child.kill('SIGKILL');
        });
        const timer = setTimeout(() => killed.child.kill('SIGKILL'), BOUND_MS);
        const end = await killed.result.finally(() => clearTimeout(timer));
        expect(end.code, `killed after a split:\n${said}`).toBeNull();
        expect(said).toMatch(/as too large \(HTTP 413\)/);
        const refusedBefore = proxy.calls().filter((call) => call.status === 413).length;

        const result = await runToEnd(workload.configPath);
        expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(3);
        // The next run packed the refused records at full size again: refused once more, then split.
        expect(result.stderr).toMatch(/as too large \(HTTP 413\)/);
        expect(proxy.calls().filter((call) => call.status === 413).length).toBeGreaterThan(refusedBefore);

        const failures = await failuresOf(workload.configPath);
        expect(failures.map(({ recordId, cause, final }) => ({ recordId, cause, final }))).toEqual([
          { recordId: OVERSIZED, cause: 'too_large', final: true },
        ]);
        const billed = emulator.ledger.entries().map((entry) => entry.key ?? entry.promptText);
        expect(new Set(billed).size, 'each record billed once').toBe(billed.length);
        expect(billed.length).toBe(BOOKS - 1);
        const names: string[] = [];
        const api = createGeminiClient({ apiKey: ENV.GEMINI_API_KEY, baseUrl: emulator.url });
        for await (const job of api.listBatches()) names.push(job.displayName ?? '');
        expect(new Set(names).size).toBe(names.length);
      } finally {
        await proxy.close();
        await emulator.close();
      }
    },
    2 * BOUND_MS + 20_000,
  );
});
