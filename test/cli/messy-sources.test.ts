import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// Messy real data through the real CLI: each flaw ends in one named error line (exit 2), never a
// stack trace, and nothing is sent (the emulator's ledger stays empty).
describe('messy sources', () => {
  const workload = useEmulatedWorkload({
    workload: { books: 1, pages: 1, execution: { poll_interval: '500ms' } },
  });

  /** Points the workload at a table source `rows.<type>` beside the config holding `content`. */
  function useTable(type: 'jsonl' | 'json' | 'csv', content: string | Buffer): string {
    const { configPath } = workload;
    writeFileSync(
      configPath,
      readFileSync(configPath, 'utf8').replace(
        /source:\n( {2}.*\n)+/,
        `source:\n  type: ${type}\n  path: rows.${type}\n`,
      ),
    );
    const path = join(dirname(configPath), `rows.${type}`);
    writeFileSync(path, content);
    return path;
  }

  async function refused(code: string): Promise<string> {
    const run = await workload.cli(['run']);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).toContain(`error [${code}]`);
    expect(run.code).toBe(2);
    expect(workload.emulator.ledger.entries()).toEqual([]);
    return run.stderr;
  }

  it('refuses a JSON field nested thousands deep by file, line and field, instead of overflowing the stack', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const jsonl = useTable('jsonl', `{"id":"a","text":"fine"}\n{"id":"b","tree":${deep}}\n`);
    const stderr = await refused('SOURCE_FIELD_INVALID');
    expect(stderr).toContain(
      `${jsonl} line 2: field "tree" nests arrays or objects more than 512 levels deep`,
    );
    const json = useTable('json', `[{"id":"a"},\n{"id":"b","tree":${deep}}]`);
    expect(await refused('SOURCE_FIELD_INVALID')).toContain(`${json}[1]: field "tree"`);
  });
});
