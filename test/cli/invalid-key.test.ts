import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

const WRONG_KEY = 'AIzaSyWRONG-invalid-key-test-0123456789';

// Google answers a key it does not know with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 403.
// Read as a malformed request, a synchronous run sent every record, each refused, and dead-lettered
// the whole workload record by record as if each were at fault; the run ended "finished".
describe('a key Google does not accept (400 API_KEY_INVALID)', () => {
  let emulator: RunningEmulator;
  const roots: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 5, apiKeys: ['the-right-key'], timeScale: 3600 });
  });

  afterAll(async () => {
    await emulator.close();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  for (const mode of ['flex', 'batch'] as const)
    it(`stops a ${mode} run at once, naming the key, and dead-letters no record`, async () => {
      const { root, configPath } = writeCatalogWorkload({
        books: 4,
        pages: 2,
        execution: { mode, poll_interval: '30s' },
        extraYaml: `api:\n  base_url: ${emulator.url}`,
      });
      roots.push(root);
      const run = await runCli(['run', '-c', configPath], { env: { GEMINI_API_KEY: WRONG_KEY } });
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.stderr).toContain('API key not valid');
      expect(run.stderr).toMatch(/Check that GEMINI_API_KEY \(or GOOGLE_API_KEY\) is valid/);
      expect(`${run.stdout}${run.stderr}`).not.toContain(WRONG_KEY);
      expect(emulator.ledger.entries()).toEqual([]);

      // Nothing was the records' fault: none is dead-lettered, all are still to do.
      const status = await runCli(['status', '--json', '-c', configPath], {
        env: { GEMINI_API_KEY: WRONG_KEY },
      });
      expect(status.code, status.stderr).toBe(0);
      const records = (JSON.parse(status.stdout) as { records: Record<string, number> }).records;
      expect(records).toMatchObject({ total: 8, dead: 0, done: 0 });

      // doctor on the workload that tried to run says the same of the key.
      const doctor = await runCli(['doctor', '-c', configPath], { env: { GEMINI_API_KEY: WRONG_KEY } });
      expect(doctor.code).toBe(1);
      // Its local checks are reported all the same, the refused key beside them.
      expect(doctor.stdout).toMatch(/store\s+ok\s+the state store passes/);
      expect(doctor.stdout).toMatch(
        /remote-jobs\s+PROBLEM\s+remote jobs and files not checked: \[PERMISSION_DENIED\] .*API key not valid/,
      );
      expect(`${doctor.stdout}${doctor.stderr}`).not.toContain(WRONG_KEY);
    });
});
