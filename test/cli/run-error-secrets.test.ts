import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { everyFileUnder, secretCheck } from '../fixtures/echoed-secrets.js';
import { runCli } from '../fixtures/cli.js';

const KEY = 'wb-run-error-secret-5d1c9a7e3f';

// A run that throws is on record with its error: the runs table kept the error as it was thrown,
// so a workload's own code that echoed the API key (here a source function's connection error)
// left the key in the store, and `runs` and `report` printed it back; only the run-finished event
// was redacted.
describe("a failed run's error that echoes the API key", () => {
  const workload = useEmulatedWorkload({ workload: { books: 1, pages: 1 } });
  const env = { GEMINI_API_KEY: KEY };

  it('is kept and shown redacted: not in any file of the data dir, nor in runs, status or report', async () => {
    const state = join(workload.root, 'state-fn');
    rmSync(state, { recursive: true, force: true });
    const configPath = join(workload.root, 'wavebatch.ts');
    writeFileSync(
      configPath,
      `export default {
  name: 'leaky', data_dir: 'state-fn', outputs: 'out-fn',
  source: { type: 'function', records: async function* () {
    yield { id: 'a' };
    throw new Error('cannot reach postgres://reader@db/pages with ' + process.env.GEMINI_API_KEY);
  } },
  prompt: { dir: 'prompts', name: 'page', version: 'v1' },
  model: { name: 'gemini-2.5-flash', response_schema_file: 'schema.json' },
  execution: { poll_interval: 500 },
  api: { base_url: '${workload.emulator.url}' },
};
`,
    );
    const expectNoSecret = secretCheck([KEY]);
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error [SOURCE_FUNCTION_FAILED]');
    expectNoSecret('run', run.stdout + run.stderr);
    expectNoSecret('the data dir', everyFileUnder(state));

    const runs = await runCli(['runs', '-c', configPath], { env });
    expect(runs.stdout).toContain(
      'error: [SOURCE_FUNCTION_FAILED] the source function failed after record 1: Error: cannot reach',
    );
    expect(runs.stdout).toContain('with [redacted]');
    for (const command of [['runs'], ['runs', '--json'], ['status'], ['status', '--json'], ['report']]) {
      const shown = await runCli([...command, '-c', configPath], { env });
      expect(shown.code, shown.stderr).toBe(0);
      expectNoSecret(command.join(' '), shown.stdout + shown.stderr);
    }
  }, 60_000);
});
