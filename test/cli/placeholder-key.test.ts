import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// Without a key, a run against the emulator sends the SDK a placeholder key, "emulator". It was
// registered as a secret, so the word was redacted from every message, log line and stored prompt.
describe('a run against the emulator without an API key', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 2 },
    workload: { books: 1, pages: 1, execution: { poll_interval: '1s' } },
  });

  beforeAll(() => {
    writeFileSync(
      join(workload.root, 'prompts', 'page', 'v1.jinja'),
      'Ask the emulator about page {{ record.page }}.\n',
    );
  });

  // runCli, not workload.cli: these commands run with no API key at all.
  it('never redacts the word "emulator" from messages or the stored prompts', async () => {
    const { emulator, configPath } = workload;
    const wrong = await runCli(['run-once', '--base-url', `${emulator.url}/nothere`, '-c', configPath]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('a `wavebatch emulator` URL');
    expect(wrong.stderr).not.toContain('[redacted]');

    const run = await runCli(['run', '-c', configPath]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('[redacted]');
    const store = new Database(workload.statePath, { readonly: true });
    try {
      const prompts = store.prepare(`SELECT body FROM texts WHERE kind = 'prompt'`).pluck().all();
      expect(prompts).toEqual([expect.stringContaining('Ask the emulator about page 1.')]);
    } finally {
      store.close();
    }
  });
});
