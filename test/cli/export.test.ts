import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_SINKS } from '../fixtures/catalog-workload.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { BIN, runCli, startCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

interface Document {
  id: string;
  output: { courses: string[]; carry_over: string };
  meta: { prompt: { version: string } };
}

// `wavebatch export` over the outputs a real run wrote (files, or JSONL shards), checked against what is on disk.
describe.each(OUTPUT_SINKS)('wavebatch export, %s output sink', (sink) => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 8 },
    workload: { books: 2, pages: 3, execution: { max_retries: 1 }, sink },
  });
  let root: string;
  let configPath: string;
  let chains: string[][];
  let doomed: string;
  const env = { GEMINI_API_KEY: 'export-test-key-not-secret' };
  const onDisk = (id: string) => readOutputs(join(root, 'out'), sink).get(id) as unknown as Document;

  beforeAll(async () => {
    ({ root, configPath, chains } = workload);
    doomed = chains[1]?.[1] as string;
    workload.emulator.setFaults({ byKey: { [doomed]: ['invalid_json', 'invalid_json'] } });
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.stdout).toContain('records: 4 done, 1 dead-lettered');
  });

  it('writes every output document as JSON Lines to standard output, and says how many on standard error', async () => {
    const result = await runCli(['export', '-c', configPath], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('exported 4 outputs\n');
    const documents = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Document);
    expect(documents.map((document) => document.id).sort()).toEqual(
      [...(chains[0] as string[]), chains[1]?.[0] as string].sort(),
    );
    for (const document of documents) expect(document).toEqual(onDisk(document.id));
  });

  it('writes a CSV row per record to a file, quietly with -q', async () => {
    const file = join(root, 'outputs.csv');
    const result = await runCli(['export', '-f', 'csv', '-o', file, '-q', '-c', configPath], { env });
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const rows = parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(4);
    const row = rows.find((entry) => entry.id === chains[0]?.[1]);
    expect(JSON.parse(row?.output ?? '')).toEqual(onDisk(chains[0]?.[1] as string).output);
    expect(row?.prompt_version).toBe('v1');
  });

  it('writes a Parquet file, to -o or to a redirected standard output, that a Parquet reader reads back as the outputs on disk', async () => {
    const file = join(root, 'outputs.parquet');
    const result = await runCli(['export', '-f', 'parquet', '-o', file, '-c', configPath], { env });
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: `exported 4 outputs to ${file}\n` });
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(file) });
    expect(rows.map((row) => row.id).sort()).toEqual([...(chains[0] as string[]), chains[1]?.[0]].sort());
    for (const row of rows) {
      const document = onDisk(row.id as string);
      expect(row).toMatchObject({ output: document.output, prompt_version: 'v1' });
      expect(row.completed_at).toEqual(
        new Date((document.meta as unknown as { completedAt: string }).completedAt),
      );
    }

    // `wavebatch export -f parquet > file`: standard output is the file.
    const redirected = join(root, 'redirected.parquet');
    const fd = openSync(redirected, 'w');
    const child = spawn(process.execPath, [BIN, 'export', '-f', 'parquet', '-q', '-c', configPath], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', fd, 'ignore'],
    });
    const [code] = (await once(child, 'close')) as [number];
    closeSync(fd);
    expect(code).toBe(0);
    expect(await parquetReadObjects({ file: await asyncBufferFromFile(redirected) })).toEqual(
      await parquetReadObjects({ file: await asyncBufferFromFile(file) }),
    );
  });

  it('refuses to write Parquet to a terminal, and names what to do instead', () => {
    // `script` gives the command a terminal for its standard output (util-linux, in every Debian).
    const command = [process.execPath, BIN, 'export', '-f', 'parquet', '-c', configPath]
      .map((word) => `'${word}'`)
      .join(' ');
    const onTerminal = spawnSync('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
      encoding: 'utf8',
    });
    expect(onTerminal.status).toBe(2);
    expect(onTerminal.stdout).toContain('--format parquet writes a binary file: give --out <file>');
    expect(onTerminal.stdout).not.toContain('PAR1');
  });

  it('writes a CSV row per chain: levels, counts, and each output field merged in page order', async () => {
    const result = await runCli(['export', '-f', 'chains', '-c', configPath], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('exported 2 chains\n');
    const rows = parseCsv(result.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'chain',
      'state',
      'school',
      'year',
      'records',
      'done',
      'dead',
      'complete',
      'courses',
      'carry_over',
    ]);
    const [whole, broken] = rows;
    const first = chains[0] as string[];
    expect(whole).toMatchObject({ chain: 'ST/school1/1900', state: 'ST', school: 'school1', year: '1900' });
    expect(whole).toMatchObject({ records: '3', done: '3', dead: '0', complete: 'true' });
    expect(JSON.parse(whole?.courses ?? '')).toEqual(first.flatMap((id) => onDisk(id).output.courses));
    expect(JSON.parse(whole?.carry_over ?? '')).toEqual(first.map((id) => onDisk(id).output.carry_over));
    expect(broken).toMatchObject({ chain: 'ST/school2/1900', done: '1', dead: '1', complete: 'false' });
    expect(JSON.parse(broken?.courses ?? '')).toEqual(onDisk(chains[1]?.[0] as string).output.courses);
  });

  it('writes the bare outputs as files, never into the output folder itself', async () => {
    const folder = join(root, 'clean');
    const result = await runCli(['export', '-f', 'files', '-o', folder, '-c', configPath], { env });
    expect(result.code).toBe(0);
    const id = chains[0]?.[2] as string;
    expect(JSON.parse(readFileSync(join(folder, `${id}.json`), 'utf8'))).toEqual(onDisk(id).output);
    expect(readdirSync(join(folder, 'ST'))).toEqual(['school1', 'school2']);

    const into = await runCli(['export', '-f', 'files', '-o', join(root, 'out', 'x'), '-c', configPath], {
      env,
    });
    expect(into.code).toBe(2);
    expect(into.stderr).toContain('output folder');
    const missing = await runCli(['export', '-f', 'files', '-c', configPath], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--out');
  });

  it("refuses to write an export over the workload's own files (store, config, source, outputs, response schema), even through a link, or where it cannot write", async () => {
    const store = join(root, 'state', 'state.db');
    const schema = join(root, 'schema.json');
    const page = join(root, 'dataset', 'ST', 'school1', '1900', 'page_1.txt');
    const output = readdirSync(join(root, 'out'), { recursive: true, withFileTypes: true }).find((entry) =>
      entry.isFile(),
    );
    const outputFile = join(output?.parentPath ?? '', output?.name ?? '');
    const link = join(root, 'innocent.jsonl');
    symlinkSync(store, link);
    const own = {
      [store]: 'the state folder',
      [configPath]: 'the workload config',
      [page]: 'the source folder',
      [schema]: 'the response schema',
    };
    own[outputFile] = 'the output folder';
    own[link] = 'the state folder';
    const before = new Map(
      [store, configPath, page, outputFile, schema].map((path) => [path, readFileSync(path)]),
    );
    const attempts = Object.keys(own).flatMap((target) => [
      ['export', '-f', 'csv', '-o', target],
      ['failures', '--export', 'jsonl', '-o', target],
      ['report', '-o', target],
    ]);
    for (const args of attempts) {
      const refused = await runCli([...args, '-c', configPath], { env });
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toContain('[INPUT_EXPORT_TARGET]');
      expect(refused.stderr).toContain(own[args.at(-1) as string]);
    }
    for (const [path, bytes] of before) expect(readFileSync(path)).toEqual(bytes);
    // The store still opens, and the outputs are all there.
    expect((await runCli(['export', '-c', configPath], { env })).stderr).toBe('exported 4 outputs\n');

    const nowhere = await runCli(['export', '-o', join(root, 'no', 'such', 'x.jsonl'), '-c', configPath], {
      env,
    });
    expect(nowhere).toMatchObject({ code: 2, stdout: '' });
    expect(nowhere.stderr).toMatch(
      /^error \[INPUT_EXPORT_TARGET\]: Cannot write .*x\.jsonl: its folder does not exist\.\n$/,
    );
    const folder = await runCli(['export', '-f', 'csv', '-o', join(root, 'dataset'), '-c', configPath], {
      env,
    });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('the source folder');
    const aFolder = await runCli(
      ['export', '-f', 'csv', '-o', join(root, 'prompts', '..', 'clean'), '-c', configPath],
      {
        env,
      },
    );
    expect(aFolder.code).toBe(2);
    expect(aFolder.stderr).toContain('it is a folder');
  });

  it("refuses a folder export (-f files, -f assembled) into the workload's own folders through a link, or over the outputs", async () => {
    // Before, only the written path was compared: `-f files -o <link to out>` wrote each bare output
    // over its output file (metadata gone: the run then saw them as corrupt).
    const everyFile = (folder: string) =>
      new Map(
        readdirSync(folder, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => [
            join(entry.parentPath, entry.name),
            readFileSync(join(entry.parentPath, entry.name)),
          ]),
      );
    const before = new Map([...everyFile(join(root, 'out')), ...everyFile(join(root, 'state'))]);
    symlinkSync(join(root, 'out'), join(root, 'to-outputs'));
    symlinkSync(join(root, 'state'), join(root, 'to-state'));
    symlinkSync(join(root, 'prompts'), join(root, 'to-prompts'));
    const attempts: Array<[string[], string]> = [
      [['-f', 'files', '-o', join(root, 'to-outputs')], 'is the output folder'],
      [['-f', 'files', '-o', join(root, 'to-outputs', 'clean')], 'inside the output folder'],
      [['-f', 'files', '-o', join(root, 'to-state')], 'is the state folder (data_dir)'],
      [['-f', 'files', '-o', join(root, 'to-prompts', 'x')], 'inside the prompt folder'],
      [['-f', 'files', '-o', root], 'holds the output folder'],
      [['-f', 'assembled', '-o', join(root, 'to-outputs')], 'is the output folder'],
      [['-f', 'assembled', '-o', join(root, 'to-state', 'books')], 'inside the state folder (data_dir)'],
    ];
    for (const [args, why] of attempts) {
      const refused = await runCli(['export', ...args, '-c', configPath], { env });
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toContain('[INPUT_EXPORT_TARGET]');
      expect(refused.stderr, args.join(' ')).toContain(why);
    }
    expect(new Map([...everyFile(join(root, 'out')), ...everyFile(join(root, 'state'))])).toEqual(before);
    for (const link of ['to-outputs', 'to-state', 'to-prompts']) rmSync(join(root, link));
  });

  it('assembles a markdown document per chain, marking the dead letter and the page behind it', async () => {
    const folder = join(root, 'books');
    const result = await runCli(['export', '-f', 'assembled', '-o', folder, '-c', configPath], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('exported 2 documents');
    const json = (id: string) => `\`\`\`json\n${JSON.stringify(onDisk(id).output, null, 2)}\n\`\`\``;
    const whole = readFileSync(join(folder, 'ST', 'school1', '1900.md'), 'utf8');
    expect(whole).toBe(`${(chains[0] ?? []).map(json).join('\n\n')}\n`);
    const [first, dead, blocked] = chains[1] ?? [];
    expect(readFileSync(join(folder, 'ST', 'school2', '1900.md'), 'utf8')).toBe(
      [
        json(first as string),
        `> **wavebatch: missing** record \`${dead}\` (position 2) failed (a dead letter).`,
        `> **wavebatch: missing** record \`${blocked}\` (position 3) is not done yet (blocked).`,
      ].join('\n\n') + '\n',
    );
    const into = await runCli(['export', '-f', 'assembled', '-o', join(root, 'out'), '-c', configPath], {
      env,
    });
    expect(into.code).toBe(2);
    expect(into.stderr).toContain('output folder');
  });

  // Node's recursive mkdir loops forever on a path the kernel refuses with ENOENT though its parent
  // exists (/proc/x): `export -f files -o /proc/x` spun at full CPU and never ended.
  it('refuses at once a folder it cannot create (-f files and -f assembled), naming it and why', async () => {
    const attempts: Array<[string[], string]> = [
      [['-f', 'files', '-o', '/proc/x'], 'Cannot write to /proc/x: its folder does not exist.'],
      [['-f', 'assembled', '-o', '/proc/x/y'], 'Cannot write to /proc/x/y: its folder does not exist.'],
      [['-f', 'files', '-o', '/proc/self'], 'Cannot write to /proc/self: its folder does not exist.'],
      [
        ['-f', 'files', '-o', join(configPath, 'x')],
        `Cannot write to ${join(configPath, 'x')}: ${configPath} is a file, not a folder.`,
      ],
    ];
    for (const [args, reason] of attempts) {
      const cli = startCli(['export', ...args, '-c', configPath], { env });
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), 10_000);
      const refused = await cli.result.finally(() => clearTimeout(timer));
      expect(refused, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toBe(`error [INPUT_EXPORT_TARGET]: ${reason}\n`);
    }
  });

  it('failures --verbose shows the prompt version and the raw response under each failure', async () => {
    const result = await runCli(['failures', '--verbose', '-c', configPath], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\[invalid_json\]/);
    expect(result.stdout).toMatch(/^ {4}prompt page v1 \(hash [0-9a-f]{12}\) {2}job \S+$/m);
    expect(result.stdout).toContain('    raw response:');
  });
});
