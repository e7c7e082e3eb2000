import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { closedPort } from '../fixtures/closed-port.js';

// `status batches/x` run in a workload's folder advised checking api.base_url, which the one-off
// job commands never read: the advice names what sets their API root, and says the config's is not.
describe('the advice of an unreachable API names what chooses the API root', () => {
  let workload: ReturnType<typeof writeCatalogWorkload>;
  let unreachable = '';

  beforeAll(async () => {
    unreachable = `http://127.0.0.1:${await closedPort()}`;
    workload = writeCatalogWorkload({ books: 1, pages: 1, extraYaml: `api:\n  base_url: ${unreachable}` });
  });
  afterAll(() => rmSync(workload.root, { recursive: true, force: true }));

  it("a one-off job command names --base-url / WAVEBATCH_BASE_URL and says a config's api.base_url is not read", async () => {
    const result = await runCli(['status', 'batches/x', '--base-url', unreachable], {
      cwd: workload.root,
      env: { GEMINI_API_KEY: 'advice-test-key' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error \[NETWORK\]: Reading batch batches\/x failed: /);
    expect(result.stderr).toContain(
      "Could not reach the API; check the network or --base-url / WAVEBATCH_BASE_URL (the one-off job commands do not read a workload config's api.base_url).\n",
    );
  });

  it('a workload command, which reads api.base_url, still names it', async () => {
    const env = { GEMINI_API_KEY: 'advice-test-key' };
    // A store as a run leaves it, so doctor asks the API about its remote jobs (status creates none).
    await new SqliteStore({ path: join(workload.root, 'state', 'state.db') }).close();
    const result = await runCli(['doctor', '-c', workload.configPath], { env });
    expect(result.code).toBe(1);
    // A finding of its own, beside the local checks.
    expect(result.stdout).toMatch(/remote-jobs\s+PROBLEM\s+remote jobs and files not checked: \[NETWORK\] /);
    expect(result.stdout).toContain(
      'Could not reach the API; check the network or api.base_url / --base-url / WAVEBATCH_BASE_URL.\n',
    );
  });
});
