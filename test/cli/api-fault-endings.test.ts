import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type FaultPlan } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { startCli } from '../fixtures/cli.js';

/** A run that has not ended after this long hangs or loops: it is killed and the case fails. */
const BOUND_MS = 40_000;
const ENV = { GEMINI_API_KEY: 'fault-endings-test-key' };

interface FaultCase {
  name: string;
  mode: 'batch' | 'realtime';
  http: NonNullable<FaultPlan['http']>;
  /** execution.max_retries */
  maxRetries: number;
  exitCode: number;
  /** `failures --json` rows as cause/final, in order. */
  failures: Array<{ cause: string; final: boolean }>;
  /** Records done (the others dead-lettered); every done record is billed exactly once. */
  done: number;
}

// Every error the API can answer a call with, injected into a real `wavebatch run`: the run must end
// by itself (no hang, no endless retry), with the exit code and failures that say what happened,
// and no request billed twice. A refusal of the request itself (400) counts against the records; the
// API's own trouble (408, 499, 503, 504, a download cut off) counts nothing and is retried. A 408
// Request Timeout (the front end's HTML page) was read as a refusal: it dead-lettered a synchronous
// record at once, and counted a failed attempt of every record of a batch job.
const CASES: FaultCase[] = [
  {
    name: 'a 400 on one batch create: one failed attempt, then done',
    mode: 'batch',
    http: [{ kind: 'status_400', match: 'create', count: 1 }],
    maxRetries: 1,
    exitCode: 0,
    failures: [{ cause: 'api_error', final: false }],
    done: 2,
  },
  {
    name: 'a 400 on every batch create: dead-lettered after max_retries, exit 3',
    mode: 'batch',
    http: [{ kind: 'status_400', match: 'create' }],
    maxRetries: 1,
    exitCode: 3,
    failures: [
      { cause: 'api_error', final: false },
      { cause: 'api_error', final: false },
      { cause: 'api_error', final: true },
      { cause: 'api_error', final: true },
    ],
    done: 0,
  },
  ...(['status_408', 'status_499', 'status_503', 'status_504'] as const).map((kind): FaultCase => ({
    name: `${kind} on batch creates: retried, nothing counted`,
    mode: 'batch',
    http: [{ kind, match: 'create', count: 2 }],
    maxRetries: 0,
    exitCode: 0,
    failures: [],
    done: 2,
  })),
  {
    name: 'a results download cut off by a connection reset: downloaded again',
    mode: 'batch',
    http: [{ kind: 'reset_mid_body', match: 'download', count: 1 }],
    maxRetries: 0,
    exitCode: 0,
    failures: [],
    done: 2,
  },
  ...(['status_408', 'status_499', 'status_503', 'status_504', 'drop'] as const).map((kind): FaultCase => ({
    name: `${kind} on generateContent: sent again, nothing counted`,
    mode: 'realtime',
    http: [{ kind, match: 'generate', count: 2 }],
    maxRetries: 0,
    exitCode: 0,
    failures: [],
    done: 2,
  })),
  {
    name: 'a 400 on generateContent: that record dead-lettered (max_retries 0), exit 3',
    mode: 'realtime',
    http: [{ kind: 'status_400', match: 'generate', count: 1 }],
    maxRetries: 0,
    exitCode: 3,
    failures: [{ cause: 'api_error', final: true }],
    done: 1,
  },
];

describe('a run meeting each API error ends honestly', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it.each(CASES)(
    '$name',
    async (fault) => {
      const emulator = await startEmulator({
        timeScale: 3600,
        turnaroundMs: 30_000,
        seed: 31,
        faults: { http: fault.http },
      });
      try {
        const workload = writeCatalogWorkload({
          books: 2,
          pages: 1,
          execution: {
            mode: fault.mode,
            max_retries: fault.maxRetries,
            max_requests_per_job: 1,
            inline_max_bytes: 0,
            poll_interval: '1s',
          },
          extraYaml: `api:\n  base_url: ${emulator.url}`,
        });
        roots.push(workload.root);
        const run = startCli(['run', '-c', workload.configPath], { env: ENV });
        const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
        const result = await run.result.finally(() => clearTimeout(timer));
        expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(fault.exitCode);

        // Every fault of a fixed count was met: a plan matching no call would pass untested.
        for (const [index, entry] of fault.http.entries())
          if (entry.count !== undefined) expect(emulator.httpFaultsFired()[index]).toBe(entry.count);

        const listed = await startCli(['failures', '-c', workload.configPath, '--json'], { env: ENV }).result;
        expect(listed.code, listed.stderr).toBe(0);
        const failures = (
          JSON.parse(listed.stdout) as Array<{ cause: string; final: boolean; message: string }>
        )
          .map(({ cause, final }) => ({ cause, final }))
          .sort((a, b) => Number(a.final) - Number(b.final));
        expect(failures).toEqual(fault.failures);

        const billed = emulator.ledger.entries().map((entry) => entry.key ?? entry.promptText);
        expect(billed, 'each done record billed once').toHaveLength(fault.done);
        expect(new Set(billed).size).toBe(billed.length);
      } finally {
        await emulator.close();
      }
    },
    BOUND_MS + 20_000,
  );
});
