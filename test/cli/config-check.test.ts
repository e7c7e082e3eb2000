import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

describe('wavebatch config check', () => {
  let root: string;
  let configPath: string;

  beforeAll(() => {
    ({ root, configPath } = writeCatalogWorkload({ books: 1, pages: 1 }));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints the resolved config with every default, and where the key comes from but never the key', async () => {
    const env = { GEMINI_API_KEY: 'config-check-secret-key' };
    const result = await runCli(['config', 'check', '-c', configPath], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${configPath} is valid`);
    expect(result.stdout).toContain('API key from GEMINI_API_KEY');
    expect(result.stdout).not.toContain('config-check-secret-key');
    const resolved = parse(result.stdout.slice(result.stdout.indexOf('\n#'))) as Record<string, unknown>;
    expect(resolved).toMatchObject({
      name: 'test',
      data_dir: join(root, 'state'),
      execution: {
        max_retries: 2,
        max_job_bytes: 100_000_000,
        inline_max_bytes: 10_000_000,
        poll_interval: 20,
      },
      source: { levels: ['state', 'school', 'year'] },
    });
    expect(result.stdout).toContain('levels: [state, school, year]');
  });

  it('--json prints the documented shape; --quiet prints nothing', async () => {
    const json = await runCli(['config', 'check', '--json', '-c', configPath], { env: {} });
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual([
      'configPath',
      'valid',
      'apiKeyFrom',
      'prompt',
      'warnings',
      'config',
    ]);
    expect(document).toMatchObject({
      configPath,
      valid: true,
      apiKeyFrom: null,
      warnings: [],
      prompt: { template: join(root, 'prompts/page/v1.jinja') },
      config: { model: { name: 'gemini-2.5-flash', generation_config: {} }, prompt: { version: 'v1' } },
    });
    const quiet = await runCli(['config', 'check', '-q', '-c', configPath], { env: {} });
    expect(quiet).toMatchObject({ code: 0, stdout: '' });
  });

  it("refuses job sizes Google refuses: inline batches over 20 MB, job files over the Files API's 2 GB", async () => {
    // Such a job's create or upload is refused (400) and every record in it counts a failed attempt:
    // a value past Google's caps dead-lettered records rather than sending them.
    const sized = (inline: number, file: number) => {
      const path = join(root, `sized-${inline}-${file}.yaml`);
      writeFileSync(
        path,
        readFileSync(configPath, 'utf8').replace(
          'max_retries: 2',
          `max_retries: 2\n  inline_max_bytes: ${inline}\n  max_job_bytes: ${file}`,
        ),
      );
      return runCli(['config', 'check', '-q', '-c', path], { env: {} });
    };
    const atTheCaps = await sized(20_000_000, 2 * 1024 ** 3);
    expect(atTheCaps).toMatchObject({ code: 0, stderr: '' });
    const past = await sized(30_000_000, 3_000_000_000);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(
      /line \d+: execution\.inline_max_bytes: expected a whole number from 0 to 20000000 \(Google refuses an inline batch over 20 MB\), got 30000000/,
    );
    expect(past.stderr).toMatch(
      /line \d+: execution\.max_job_bytes: expected a whole number from 1 to 2147483648 \(the Files API's 2 GB per file\), got 3000000000/,
    );
  });

  it('refuses a context.field the response schema has no field of: every page got a null context, without a word', async () => {
    const misspelt = join(root, 'misspelt-context.yaml');
    writeFileSync(
      misspelt,
      readFileSync(configPath, 'utf8').replace('field: carry_over', 'field: carry_ovr'),
    );
    const refused = await runCli(['config', 'check', '-c', misspelt], { env: {} });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /line \d+: context\.field: "carry_ovr" is not a field of the outputs: the response schema has the fields courses, carry_over, so every record's context would be null/,
    );
    // A field inside one the schema leaves open (a string here) cannot be told: it is left to the run.
    writeFileSync(
      misspelt,
      readFileSync(configPath, 'utf8').replace('field: carry_over', 'field: carry_over.text'),
    );
    expect((await runCli(['config', 'check', '-q', '-c', misspelt], { env: {} })).code).toBe(0);
  });

  it('refuses an outputs.assemble.field the response schema has no field of: its documents held only gap marks', async () => {
    const misspelt = join(root, 'misspelt-assemble.yaml');
    writeFileSync(
      misspelt,
      readFileSync(configPath, 'utf8').replace(
        'outputs: out',
        'outputs:\n  path: out\n  assemble: { field: course }',
      ),
    );
    const refused = await runCli(['config', 'check', '-c', misspelt], { env: {} });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /line \d+: outputs\.assemble\.field: "course" is not a field of the outputs: the response schema has the fields courses, carry_over, so every assembled document would hold nothing but its gap marks/,
    );
  });

  it('exits 2 naming the line and key of a bad value, and the file and line of a broken template', async () => {
    const broken = join(root, 'broken.yaml');
    writeFileSync(broken, readFileSync(configPath, 'utf8').replace('max_retries: 2', 'max_retries: -1'));
    const bad = await runCli(['config', 'check', '-c', broken], { env: {} });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/line \d+: execution\.max_retries/);

    // A grouped config whose prompt never renders `records` would send every group the same text.
    const grouped = join(root, 'grouped.yaml');
    writeFileSync(
      grouped,
      readFileSync(configPath, 'utf8').replace('max_retries: 2', 'max_retries: 2\n  records_per_request: 5'),
    );
    const ungroupedPrompt = await runCli(['config', 'check', '-c', grouped], { env: {} });
    expect(ungroupedPrompt.code).toBe(2);
    expect(ungroupedPrompt.stderr).toContain('never uses `records`, but execution.records_per_request is 5');
    // run-once finds it after taking the store's lease: it exits 2 and gives the lease up (it printed
    // the error, never exited and kept the workload locked). Nothing is sent: the port is closed.
    const refusedRun = await runCli(['run-once', '-c', grouped, '--base-url', 'http://127.0.0.1:9'], {
      env: { GEMINI_API_KEY: 'unused-key' },
    });
    expect(refusedRun.code).toBe(2);
    expect(refusedRun.stderr).toContain('never uses `records`, but execution.records_per_request is 5');
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    try {
      expect(await store.readLease()).toBeNull();
    } finally {
      await store.close();
    }
    writeFileSync(
      join(root, 'prompts/page/v2.jinja'),
      '{% for r in records %}Page {{ r.page }}\n{% endfor %}',
    );
    writeFileSync(grouped, readFileSync(grouped, 'utf8').replace('version: v1', 'version: v2'));
    expect((await runCli(['config', 'check', '-c', grouped, '--quiet'], { env: {} })).code).toBe(0);

    writeFileSync(join(root, 'prompts/page/v1.jinja'), 'Page {{ record.page }\n');
    const template = await runCli(['config', 'check', '-c', configPath], { env: {} });
    expect(template.code).toBe(2);
    expect(template.stderr).toContain('v1.jinja');
  });
});
