import { existsSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { startCli } from '../fixtures/cli.js';

/** The batch jobs the emulator holds, as the API lists them. */
async function batchJobs(emulator: RunningEmulator): Promise<unknown[]> {
  const response = await fetch(`${emulator.url}/v1beta/batches`, { headers: { 'x-goog-api-key': 'k' } });
  return ((await response.json()) as { operations?: unknown[] }).operations ?? [];
}

/** Long enough for a run that fails at once on a loaded machine; a spinning mkdir never ends. */
const BOUND_MS = 30_000;

// Node's recursive mkdir loops forever on a path the kernel refuses with ENOENT though its parent
// exists: a run with `outputs: /proc/x` spun at full CPU instead of failing (both sinks).
describe('a run whose outputs folder cannot be created', () => {
  let emulator: RunningEmulator;
  const roots: string[] = [];

  // An emulator each: what one test's run created is not another's.
  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 600, turnaroundMs: 60_000, seed: 61 });
  });
  afterEach(async () => {
    await emulator.close();
  });
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it.each(['files', 'jsonl'] as const)(
    'fails fast naming the path (%s sink)',
    async (sink) => {
      const workload = writeCatalogWorkload({
        books: 1,
        pages: 1,
        sink,
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      roots.push(workload.root);
      const yaml = readFileSync(workload.configPath, 'utf8');
      writeFileSync(
        workload.configPath,
        sink === 'files'
          ? yaml.replace('outputs: out', 'outputs: /proc/x')
          : yaml.replace('  path: out', '  path: /proc/x'),
      );
      const run = startCli(['run', '-c', workload.configPath], { env: {} });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
      const result = await run.result.finally(() => clearTimeout(timer));
      expect(result.code, `${result.stderr} (killed after ${BOUND_MS} ms: spinning)`).not.toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("error [ENOENT]: ENOENT: no such file or directory, mkdir '/proc/x'");
      // Checked at start: no batch job was created, so nothing is billed (the files sink found the
      // folder unmakeable only at the first output write, once the job had been paid for).
      expect(await batchJobs(emulator)).toEqual([]);
      expect(emulator.ledger.entries()).toEqual([]);
      // ...and the run created neither its state store nor an output folder.
      expect(existsSync(join(workload.root, 'state'))).toBe(false);
    },
    BOUND_MS + 10_000,
  );
});

// The state store's folder was made by the same looping mkdir (synchronous): `data_dir: /proc/x`
// spun at full CPU before anything was said.
describe('a run whose data_dir cannot be created', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it(
    'fails fast naming the path (STORE_OPEN)',
    async () => {
      const workload = writeCatalogWorkload({
        books: 1,
        pages: 1,
        extraYaml: 'api:\n  base_url: http://127.0.0.1:9',
      });
      roots.push(workload.root);
      writeFileSync(
        workload.configPath,
        readFileSync(workload.configPath, 'utf8').replace('data_dir: state', 'data_dir: /proc/x'),
      );
      const run = startCli(['run', '-c', workload.configPath], { env: {} });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
      const result = await run.result.finally(() => clearTimeout(timer));
      expect(result.code, `${result.stderr} (killed after ${BOUND_MS} ms: spinning)`).not.toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('Cannot open the state store at /proc/x/state.db');
      expect(result.stderr).toContain("mkdir '/proc/x'");
    },
    BOUND_MS + 10_000,
  );
});
