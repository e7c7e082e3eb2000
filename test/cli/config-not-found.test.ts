import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/index.js';
import { runCli } from '../fixtures/cli.js';

// loadConfig's CONFIG_NOT_FOUND told a program to "pass one with -c <file>", a flag of the command;
// the command's advice belongs to the command, where it is true.
describe('a config file that is not there', () => {
  let folder = '';
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'wb-no-config-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('loadConfig names the path it looked at and no command-line flag', async () => {
    const path = join(folder, 'wavebatch.yaml');
    const error = (await loadConfig(path).catch((caught: unknown) => caught)) as Error & { code: string };
    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.message).toBe(`${path}: config file not found (looked at ${path})`);
  });

  it('the command, given no -c in a folder without one, says to pass -c or run wavebatch init', async () => {
    const result = await runCli(['status'], { cwd: folder });
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(
      `error [CONFIG_NOT_FOUND]: wavebatch.yaml: config file not found (looked at ${join(folder, 'wavebatch.yaml')}): ` +
        'no wavebatch.yaml (.yml, .ts, .mjs, .js) in this folder; pass one with -c <file>, or create one with `wavebatch init`\n',
    );
  });

  it('the command, given -c with a path that is not there, names that path', async () => {
    const result = await runCli(['status', '-c', 'elsewhere.yaml'], { cwd: folder });
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(
      `error [CONFIG_NOT_FOUND]: elsewhere.yaml: config file not found (looked at ${join(folder, 'elsewhere.yaml')})\n`,
    );
  });
});
