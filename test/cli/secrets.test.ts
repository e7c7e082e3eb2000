import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { answeringWorkload } from '../fixtures/answering-workload.js';
import { echoingWorkload, everyFileUnder, secretCheck } from '../fixtures/echoed-secrets.js';
import { runCli, type CliResult } from '../fixtures/cli.js';

// The configured key (any shape), a Google-shaped key nobody configured, a bearer token and URL
// credentials, all echoed back by the server inside a per-request error.
const KEY = 'wb-distinctive-secret-7f3e9c1d2b';
const OTHER_KEY = `AIza${'Xy9'.repeat(12).slice(0, 35)}`;
const TOKEN = 'tok-9a8b7c6d5e4f';
const PASSWORD = 'hunter2-password';
const SECRETS = [KEY, OTHER_KEY, TOKEN, PASSWORD];

const expectNoSecret = secretCheck(SECRETS);

describe('secrets echoed by the API never reach the database, stderr or exports', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let echoed: string;
  let run: CliResult;
  const env = { GEMINI_API_KEY: KEY };

  beforeAll(async () => {
    ({ emulator, root, configPath, echoed } = await echoingWorkload(
      { max_retries: 1, poll_interval: 20 },
      `Backend echoed x-goog-api-key=${KEY} (also ${OTHER_KEY}); ` +
        `Authorization: Bearer ${TOKEN}; proxy https://svc:${PASSWORD}@proxy.internal/v1beta`,
    ));
    run = await runCli(['run', '-c', configPath], { env });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('dead-letters the record, printing the failure on stderr without the secrets', () => {
    expect(run.code).toBe(3); // finished with a dead letter
    expect(run.stderr).toContain(`dead letter ${echoed} [api_error]`);
    expect(run.stderr).toContain('[redacted]');
    expectNoSecret('stdout', run.stdout);
    expectNoSecret('stderr', run.stderr);
  });

  it('stores the failure (message and raw error) redacted: no secret in any file of the data dir', () => {
    expectNoSecret('the data dir', everyFileUnder(join(root, 'state')));
  });

  it('lists and exports the failures (CSV and JSONL) redacted', async () => {
    const listed = await runCli(['failures', '-c', configPath], { env });
    expect(listed.stdout).toContain(echoed);
    expectNoSecret('failures', listed.stdout);
    for (const format of ['csv', 'jsonl']) {
      const out = join(root, `failures.${format}`);
      const exported = await runCli(['failures', '--export', format, '-o', out, '-c', configPath], { env });
      expect(exported.code).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(text).toContain('Backend echoed x-goog-api-key=[redacted]');
      expect(text).toContain('https://[redacted]@proxy.internal');
      expectNoSecret(`the ${format} export`, text);
    }
  });

  it('refuses credentials in api.base_url and --base-url, without printing them', async () => {
    const yaml = readFileSync(configPath, 'utf8');
    writeFileSync(configPath, yaml.replace(emulator.url, `http://svc:${PASSWORD}@127.0.0.1:9`));
    const refused = await runCli(['run', '-c', configPath], { env });
    writeFileSync(configPath, yaml);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('api.base_url: must not hold credentials (user:password@');
    expectNoSecret('stderr', refused.stderr);
    const flag = await runCli(['jobs', '--base-url', `https://svc:${PASSWORD}@127.0.0.1:9`], { env });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('must not hold credentials');
    expectNoSecret('stderr', flag.stderr);
    // The key in the URL's query, as Google's REST API takes it: config check printed it as it was.
    writeFileSync(configPath, yaml.replace(emulator.url, `${emulator.url}/?key=${KEY}`));
    for (const command of [['config', 'check'], ['config', 'check', '--json'], ['run']]) {
      const queried = await runCli([...command, '-c', configPath], { env });
      expect(queried.code, command.join(' ')).toBe(2);
      expect(queried.stderr).toContain('a key= / token= query');
      expectNoSecret(command.join(' '), queried.stdout + queried.stderr);
    }
    writeFileSync(configPath, yaml);
  });
});

// The model echoed the key into an output: the output file is the user's and keeps it, but every
// view of the inference log shows it redacted; `show` printed the current output as written.
describe('an output that echoes the API key', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let id: string;
  const env = { GEMINI_API_KEY: KEY };

  beforeAll(async () => {
    ({ emulator, root, configPath } = await answeringWorkload(
      { books: 1, pages: 1, execution: { poll_interval: 20 } },
      (chains) => {
        id = chains[0]?.[0] as string;
        return () => ({ text: JSON.stringify({ courses: ['Latin 101'], carry_over: `the key ${KEY}` }) });
      },
    ));
    expect((await runCli(['run', '-c', configPath], { env })).code).toBe(0);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is shown redacted by show, as text and as JSON', async () => {
    for (const format of [[], ['--json']]) {
      const shown = await runCli(['show', id, ...format, '-c', configPath], { env });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('the key [redacted]');
      expectNoSecret(`show ${format.join(' ')}`, shown.stdout);
    }
  });
});
