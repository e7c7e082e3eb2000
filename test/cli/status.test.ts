import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { WorkloadStatus } from '../../src/service/index.js';
import { BIN, runCli, startCli } from '../fixtures/cli.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { billed } from '../fixtures/billed-figures.js';

// `wavebatch status` as a user runs it, before, during and after a run on the emulator.
describe('wavebatch status', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 60_000, seed: 3 },
    workload: { books: 3, pages: 3, execution: { max_retries: 1, poll_interval: 20 } },
  });
  let emulator: RunningEmulator;
  let configPath: string;
  let chains: string[][];
  let doomed: string;
  let env: Record<string, string>;

  async function status(): Promise<WorkloadStatus> {
    const result = await workload.cli(['status', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as WorkloadStatus;
  }

  beforeAll(() => {
    ({ emulator, configPath, chains, env } = workload);
    doomed = chains[1]?.[1] as string;
    emulator.setFaults({ byKey: { [doomed]: ['safety', 'safety'] } });
  });

  it('says there is nothing yet before the first run', async () => {
    const human = await workload.cli(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('workload test');
    expect(human.stdout).toContain('no records yet');
    expect(human.stderr).toContain('the workload has never run');
    const result = await workload.cli(['status', '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as WorkloadStatus;
    expect(json.records.total).toBe(0);
    expect(json.eta).toMatchObject({ remainingRecords: 0, remainingMs: 0 });
  });

  it('shows the jobs a run-once left in flight, as the API lists them', async () => {
    expect((await workload.cli(['run-once'])).code).toBe(0);
    const json = await status();
    expect(json.records).toMatchObject({ total: 9, inFlight: 3, blocked: 6, done: 0 });
    expect(json.chains).toMatchObject({ total: 3, notStarted: 0, inProgress: 3, done: 0 });
    const remote = await runCli(['jobs', '--json', '--base-url', emulator.url], { env });
    const remoteNames = (JSON.parse(remote.stdout) as Array<{ name: string }>).map((job) => job.name);
    expect(json.activeJobs.map((job) => job.remoteName).sort()).toEqual(remoteNames.sort());
    expect(json.activeJobs.every((job) => job.lane === 'batch' && !job.stalled)).toBe(true);
    expect(json.lanes.batch?.requests).toBe(3);
    expect(json.eta).toMatchObject({ remainingRecords: 9, longestChain: 3, remainingMs: null });

    const human = await workload.cli(['status']);
    expect(human.stdout).toMatch(/^records\s+9: 0 done, 3 in flight, 0 ready, 6 blocked, 0 dead$/m);
    expect(human.stdout).toMatch(/^jobs\s+\d+ active jobs?: batch \d+ \(3 requests\)$/m);
    expect(human.stdout).toContain('unknown until a record completes');
  });

  it('after the run: counts, chains behind the dead letter, tokens and cost as billed, rate and ETA', async () => {
    expect((await workload.cli(['run'])).code).not.toBe(2);
    const json = await status();
    expect(json.records).toMatchObject({ total: 9, done: 7, dead: 1, blocked: 1, behindDeadLetters: 1 });
    expect(json.chains).toEqual({ total: 3, done: 2, inProgress: 0, notStarted: 0, blocked: 1 });
    expect(json.activeJobs).toEqual([]);

    // The emulator's ledger is the outside observer: the done records' requests as billed.
    const bills = emulator.ledger.entries().filter((entry) => entry.outcome === 'ok');
    expect(json.usage).toEqual({
      completedRecords: 7,
      inputTokens: billed(bills).all.inputTokens,
      outputTokens: billed(bills).all.outputTokens,
    });
    // Cost so far is every billed request, the two safety-blocked answers included.
    const ledger = emulator.ledger.entries();
    const ledgerUsd = billed(ledger).all.costUsd;
    expect(json.billed).toMatchObject({
      requests: ledger.length,
      inputTokens: billed(ledger).all.inputTokens,
      outputTokens: billed(ledger).all.outputTokens,
    });
    expect(json.billed?.costUsd).toBeCloseTo(ledgerUsd, 10);
    expect(json.billed?.byLane.batch?.requests).toBe(ledger.length);
    expect(json.cost.soFar).toBeCloseTo(ledgerUsd, 10);
    expect(json.cost).toMatchObject({
      currency: 'USD',
      model: 'gemini-2.5-flash',
      lane: 'batch',
      basis: 'inference-log',
    });
    // Nothing is left that can run: the projection is what was spent.
    expect(json.cost.projected).toBeCloseTo(ledgerUsd, 10);
    expect(json.throughput.recordsPerHour).toBeGreaterThan(0);
    expect(json.throughput.jobTurnaroundMs).toBeGreaterThan(0);
    expect(json.eta).toMatchObject({ remainingRecords: 0, remainingMs: 0 });
    expect(json.failures).toEqual({ total: 2, byCause: [{ cause: 'safety', count: 2 }] });

    const human = await workload.cli(['status']);
    expect(human.stdout).toMatch(/^records\s+9: 7 done, 0 in flight, 0 ready, 1 blocked, 1 dead$/m);
    expect(human.stdout).toMatch(
      /^chains\s+3: 2 done, 0 in progress, 0 not started, 1 blocked behind a dead letter$/m,
    );
    expect(human.stdout).toMatch(
      /^cost\s+\$\S+ so far, ~\$\S+ projected in all \(batch prices of gemini-2.5-flash/m,
    );
    expect(human.stdout).toMatch(/^eta\s+nothing left to run$/m);
    expect(human.stdout).toContain('next: `wavebatch failures --dead`');
    // Colour only on a terminal: a pipe gets none.
    expect(human.stdout).not.toContain('\x1b[');
  });

  it("jobs --workload lists the workload's jobs from its store, as the emulator billed them", async () => {
    const json = await workload.cli(['jobs', '--workload', '--json']);
    expect(json.code).toBe(0);
    const jobs = JSON.parse(json.stdout) as Array<{ remoteName: string; lane: string; state: string }>;
    const billedBatches = new Set(emulator.ledger.entries().map((entry) => entry.batchName));
    expect(new Set(jobs.map((job) => job.remoteName))).toEqual(billedBatches);
    expect(jobs.every((job) => job.lane === 'batch' && job.state === 'processed')).toBe(true);

    const human = await workload.cli(['jobs', '--state', 'processed']);
    expect(human.stdout.trim().split('\n')).toHaveLength(jobs.length);
    expect(human.stdout).toMatch(/ batches\/\S+ {2}batch {2}processed {2}\d+ requests /);
    const none = await workload.cli(['jobs', '--state', 'running']);
    expect(none.stdout).toBe('no running jobs in this workload\n');
  });

  it('failures --json prints the failure rows, and --by-cause --json the counts', async () => {
    const dead = await workload.cli(['failures', '--dead', '--json']);
    expect(dead.code).toBe(0);
    const rows = JSON.parse(dead.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ recordId: doomed, cause: 'safety', final: true, attempt: 1 });
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual([
      'at',
      'attempt',
      'cause',
      'final',
      'id',
      'jobId',
      'message',
      'promptHash',
      'promptName',
      'promptVersion',
      'raw',
      'recordId',
      'requestId',
    ]);
    const causes = await workload.cli(['failures', '--by-cause', '--json']);
    expect(JSON.parse(causes.stdout)).toEqual([{ cause: 'safety', count: 2 }]);
    const both = await workload.cli(['failures', '--json', '--export', 'csv']);
    expect(both.code).toBe(2);
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v script']).status !== 0)(
    'colours on a terminal, never with NO_COLOR',
    () => {
      const onTerminal = (extraEnv: Record<string, string>) =>
        spawnSync('script', ['-qec', `${process.execPath} ${BIN} status -c ${configPath}`, '/dev/null'], {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            TERM: 'xterm-256color',
            ...env,
            ...extraEnv,
          },
        }).stdout;
      const coloured = onTerminal({});
      // eslint-disable-next-line no-control-regex -- the escape is what is tested
      expect(coloured).toMatch(/\x1b\[1mrecords/);
      expect(coloured).toContain('\x1b[31m1 dead');
      const plain = onTerminal({ NO_COLOR: '1' });
      expect(plain).toMatch(/^records\s+9: 7 done/m);
      expect(plain).not.toContain('\x1b[');
    },
  );

  it('--watch renders again every interval until Ctrl-C, as JSON Lines with --json', async () => {
    const watching = startCli(['status', '--watch', '100ms', '--json', '-c', configPath], { env });
    const output = await watching.stdoutMatches((text) => text.split('\n').filter(Boolean).length >= 2);
    watching.child.kill('SIGINT');
    expect((await watching.result).code).toBe(0);
    const frames = output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as WorkloadStatus);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames[0]?.records.done).toBe(7);
    expect(Date.parse(frames[1]?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(frames[0]?.at ?? ''));
  });

  it('refuses a bad --watch interval with exit code 2', async () => {
    const result = await workload.cli(['status', '--watch', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--watch');
  });

  it('refuses a --watch interval above 24h, which redrew hundreds of times a second', async () => {
    const result = await workload.cli(['status', '--watch', '30d']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--watch');
    expect(result.stderr).toContain('expected an interval from 100ms to 24h');
    expect(result.stdout).toBe('');
  });

  it('still shows one batch job when given its name', async () => {
    const remote = await runCli(['jobs', '--json', '--base-url', emulator.url], { env });
    const first = (JSON.parse(remote.stdout) as Array<{ name: string }>)[0]?.name as string;
    const result = await runCli(['status', first, '--base-url', emulator.url], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${first}  SUCCEEDED`);
  });
});

// A Flex workload makes no batch job: its rate and ETA are measured from its first run.
describe('wavebatch status of a Flex workload', () => {
  const workload = useEmulatedWorkload({
    emulator: { timeScale: 3_000, seed: 11 },
    // The cap stops the run with most records left.
    workload: { books: 40, pages: 1, execution: { mode: 'flex', max_cost: 0.002, sync_concurrency: 4 } },
  });

  it('measures the rate and the ETA from the records completed, and bills as the ledger does', async () => {
    const run = await workload.cli(['run']);
    expect(run.code, run.stderr).toBe(0);
    const result = await workload.cli(['status', '--json']);
    const json = JSON.parse(result.stdout) as WorkloadStatus;
    expect(json.records.done).toBeGreaterThan(0);
    expect(json.records.ready).toBeGreaterThan(0);
    expect(json.throughput.recordsPerHour).toBeGreaterThan(0);
    expect(json.eta.remainingMs).toBeGreaterThan(0);
    const ledger = workload.emulator.ledger.entries();
    expect(json.billed?.requests).toBe(ledger.length);
    expect(json.billed?.byLane.flex?.costUsd).toBeCloseTo(billed(ledger).all.costUsd, 10);

    const human = await workload.cli(['status']);
    expect(human.stdout).toMatch(/^rate\s+[\d,]+ records\/h over the last /m);
    expect(human.stdout).toMatch(/^eta\s+~/m);
  });
});
