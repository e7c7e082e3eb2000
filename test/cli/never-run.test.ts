import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

const NEVER_RUN = /the workload has never run \(no .*state\.db; `wavebatch run` creates it\)/;

/**
 * A workload of two records that has never run, its own to each describe (one whose command wrongly
 * created state fails there, not in the next), and the CLI run in it.
 */
function neverRunWorkload() {
  let workload: ReturnType<typeof writeCatalogWorkload>;
  let before: string[];
  beforeAll(() => {
    workload = writeCatalogWorkload({ books: 1, pages: 2 });
    before = readdirSync(workload.root).sort();
  });
  afterAll(() => rmSync(workload.root, { recursive: true, force: true }));
  return {
    cli: (args: string[]) => runCli([...args, '-c', workload.configPath], { cwd: workload.root, env: {} }),
    /** The workload's folder holds what it held before: no state/ made by a look. */
    createdNothing: () => expect(readdirSync(workload.root).sort()).toEqual(before),
  };
}

// The read-only commands opened the state store, so a look at a workload that had never run created
// state/state.db (and made it look run) before printing empty figures.
describe('read-only commands on a workload that has never run', () => {
  const { cli, createdNothing } = neverRunWorkload();

  // What each prints to standard output: the empty figures and listings it printed before, so a
  // script reading them keeps working; standard error says the workload never ran.
  const looks: Array<[string[], RegExp]> = [
    [['status'], /no records yet/],
    [['status', '--json'], /"total": 0/],
    [['runs'], /^no runs yet\n$/],
    [['runs', '--json'], /^\[\]\n$/],
    [['log'], /^no events match\n$/],
    [['jobs'], /^no jobs in this workload yet\n$/],
    [['failures'], /^no failures recorded\n$/],
    [['failures', '--by-cause', '--json'], /^\[\]\n$/],
    [['export'], /^$/],
    [['show', 'ST/school1/1900/page_001'], /^$/],
    [['report'], /^$/],
  ];

  it.each(looks.map(([args, stdout]) => [args.join(' '), args, stdout] as const))(
    '%s says it never ran, exits 0 and creates nothing',
    async (_name, args, stdout) => {
      const result = await cli(args);
      expect(result.stderr).toMatch(NEVER_RUN);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(stdout);
      createdNothing();
    },
  );

  it('estimate estimates the workload (meant for before a run: no note) and creates nothing', async () => {
    const result = await cli(['estimate', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(result.stdout) as { records: number }).records).toBe(2);
    createdNothing();
  });
});

// requeue, clear-failures, reset and prune opened the state store to change it, so on a workload
// that had never run they created state/state.db (and made it look run) to change nothing.
describe('commands that change state, on a workload that has never run', () => {
  const { cli, createdNothing } = neverRunWorkload();

  const changes: Array<[string[], string, RegExp]> = [
    [['requeue'], 'requeue', /^$/],
    [['requeue', 'ST/school1/1900/page_1'], 'requeue', /^$/],
    [['requeue', '--json'], 'requeue', /^\{"requeued":0\}\n$/],
    [['clear-failures', '--yes'], 'clear', /^$/],
    [['clear-failures', '--yes', '--json'], 'clear', /^\{"cleared":0\}\n$/],
    [['reset', '--yes'], 'reset', /^$/],
    [['reset', '--yes', '--json'], 'reset', /^\{"reset":false,"outputsKept":true\}\n$/],
    [['prune', '--older-than', '30d'], 'prune', /^$/],
  ];

  it.each(changes.map(([args, what, stdout]) => [args.join(' '), args, what, stdout] as const))(
    '%s says there is nothing to do, exits 0 and creates nothing',
    async (_name, args, what, stdout) => {
      const result = await cli(args);
      expect(result.stderr).toMatch(NEVER_RUN);
      expect(result.stderr).toContain(`: nothing to ${what}\n`);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(stdout);
      createdNothing();
    },
  );
});
