import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type FaultPlan } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { startCli } from '../fixtures/cli.js';

/** A run that has not ended after this long hangs or loops: it is killed and the case fails. */
const BOUND_MS = 40_000;
const ENV = { GEMINI_API_KEY: 'input-cleanup-test-key' };

// A job create the API refused after its JSONL input was uploaded (a 400, a quota's 429, a 413 that
// splits the job) dropped the job but not its upload: the file stayed in the user's Files storage
// (20 GB a project) until it expired 48 h later. Now every upload no job uses any more is deleted.
const CASES: Array<{ name: string; http: NonNullable<FaultPlan['http']> }> = [
  { name: 'refused (400)', http: [{ kind: 'status_400', match: 'create', count: 1 }] },
  { name: 'refused by a quota (429)', http: [{ kind: 'status_429', match: 'create', count: 1 }] },
  { name: 'refused as too large (413) and split', http: [{ kind: 'status_413', match: 'create', count: 1 }] },
];

describe('the uploaded input of a job create the API refused', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it.each(CASES)(
    'is deleted by the end of the run: $name',
    async ({ http }) => {
      const emulator = await startEmulator({
        timeScale: 3600,
        turnaroundMs: 30_000,
        seed: 53,
        faults: { http },
      });
      try {
        const workload = writeCatalogWorkload({
          books: 2,
          pages: 1,
          execution: { max_retries: 1, max_requests_per_job: 2, inline_max_bytes: 0, poll_interval: '1s' },
          extraYaml: `api:\n  base_url: ${emulator.url}`,
        });
        roots.push(workload.root);
        const run = startCli(['run', '-c', workload.configPath], { env: ENV });
        const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
        const result = await run.result.finally(() => clearTimeout(timer));
        expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
        expect(emulator.httpFaultsFired(), 'the refusal was met').toEqual([1]);
        expect(emulator.ledger.entries()).toHaveLength(2);

        // The emulator is the outside observer: what the user's Files storage still holds.
        const uploads = emulator.heldFiles().filter((file) => file.source === 'UPLOADED');
        expect(uploads).toEqual([]);
      } finally {
        await emulator.close();
      }
    },
    BOUND_MS + 20_000,
  );
});
