import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// Messy real data through the real CLI: each flaw ends in one named error line (exit 2), never a
// stack trace, and nothing is sent (the emulator's ledger stays empty).
describe('messy sources', () => {
  const workload = useEmulatedWorkload({
    workload: { books: 1, pages: 1, execution: { poll_interval: '500ms' } },
  });

  /** Points the workload at a table source `rows.<type>` beside the config holding `content`. */
  function useTable(type: 'jsonl' | 'json' | 'csv', content: string | Buffer, more = ''): string {
    const { configPath } = workload;
    writeFileSync(
      configPath,
      readFileSync(configPath, 'utf8').replace(
        /source:\n( {2}.*\n)+/,
        `source:\n  type: ${type}\n  path: rows.${type}\n${more}`,
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

  it('refuses a CSV row that repeats the header (two files joined), naming its line, instead of sending it', async () => {
    const csv = useTable('csv', 'id,text\r\na,one\r\nid,text\r\nb,two\r\n');
    const stderr = await refused('SOURCE_INVALID_CSV');
    expect(stderr).toContain(`${csv} line 3 repeats the header row: were two CSV files joined?`);
  });

  it('names a JSON source that is one object rather than an array of them in plain words', async () => {
    const json = useTable('json', '{"id":"a","text":"one record, not in an array"}');
    const stderr = await refused('SOURCE_INVALID_JSON');
    // It said "got a object".
    expect(stderr).toContain(
      `error [SOURCE_INVALID_JSON]: ${json}: expected a top-level JSON array of objects, got an object\n`,
    );
  });

  it('warns of an empty source instead of only counting its 0 records', async () => {
    useTable('jsonl', '\n\n');
    const run = await workload.cli(['run']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/"level":"warn","msg":"the source holds no records \(an empty file or folder/);
    expect(run.stdout).toContain('records: 0 done, 0 dead-lettered, 0 pending (0 total)');
    expect(workload.emulator.ledger.entries()).toEqual([]);
  });

  it('estimate refuses a repeated id or chain position, naming both places, as run does', async () => {
    const csv = useTable('csv', 'id,text\na,one\nb,two\na,three\n');
    const repeatedId = `${csv} line 2 and ${csv} line 4 both have id "a"`;
    expect((await workload.cli(['run', '--dry-run'])).stderr).toContain(repeatedId);
    const estimate = await workload.cli(['estimate']);
    expect(estimate.stderr).toContain(`error [SOURCE_DUPLICATE_ID]: ${repeatedId}`);
    expect(estimate.code).toBe(2);

    const rows = ['{"id":"p1","book":"x","page":1}', '{"id":"p2","book":"x","page":1}'];
    const jsonl = useTable('jsonl', `${rows.join('\n')}\n`, '  chain_field: book\n  position_field: page\n');
    const repeated = await workload.cli(['estimate']);
    expect(repeated.stderr).toContain(
      `error [SOURCE_DUPLICATE_POSITION]: ${jsonl} line 1 and ${jsonl} line 2 are both at position 1 of chain "x"`,
    );
    expect(repeated.code).toBe(2);
  });

  /** A wavebatch.ts beside the YAML config, the same workload with `body` as its source function. */
  function functionConfig(body: string): string {
    const path = join(workload.root, 'wavebatch.ts');
    writeFileSync(
      path,
      `export default {
  name: 'messy', data_dir: 'state-fn', outputs: 'out-fn',
  source: { type: 'function', records: async function* () { ${body} } },
  prompt: { dir: 'prompts', name: 'page', version: 'v1' },
  model: { name: 'gemini-2.5-flash', response_schema_file: 'schema.json' },
  execution: { poll_interval: 500 },
  api: { base_url: '${workload.emulator.url}' },
};
`,
    );
    return path;
  }

  it('names a source function that throws, and after which record, instead of its bare message', async () => {
    const configPath = functionConfig("yield { id: 'a' }; throw new Error('database is down\\n  at query');");
    const run = await runCli(['run', '-c', configPath], { env: workload.env });
    expect(run.stderr).toContain(
      'error [SOURCE_FUNCTION_FAILED]: the source function failed after record 1: Error: database is down\n',
    );
    expect(run.code).toBe(2);
    expect(workload.emulator.ledger.entries()).toEqual([]);
  });

  it('names a source function that awaits what never settles, instead of exiting 13 with a warning about the bin', async () => {
    const configPath = functionConfig("yield { id: 'a' }; await new Promise(() => undefined);");
    const estimate = await runCli(['estimate', '-c', configPath], { env: workload.env });
    expect(estimate.stderr).toContain(
      "error [CONFIG_CODE_STALLED]: the command stopped with its work unfinished: the workload's own code",
    );
    expect(estimate.stderr).not.toContain('top-level await');
    expect(estimate.code).toBe(2);
  });

  it('hears Ctrl-C while a source function that never ends is synced: the second one stops the run', async () => {
    const configPath = functionConfig('for (let index = 0; ; index++) yield { id: `r${index}` };');
    const running = startCli(['run', '-c', configPath], { env: workload.env });
    // A run deaf to signals would sync for ever: killed outright past 20 s, it fails the test.
    const deaf = setTimeout(() => running.child.kill('SIGKILL'), 20_000);
    await running.stderrContains('started (run)');
    running.child.kill('SIGINT');
    await running.stderrContains('stopping after the current step');
    running.child.kill('SIGINT');
    const stopped = await running.result;
    clearTimeout(deaf);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('SIGINT again: stopping now');
    expect(workload.emulator.ledger.entries()).toEqual([]);
  }, 30_000);
});
