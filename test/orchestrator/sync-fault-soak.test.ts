import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { LedgerEntry } from '../../src/emulator/ledger.js';
import { mulberry32 } from '../../src/emulator/seeded-random.js';
import type { Lane } from '../../src/lanes/lane.js';
import { SYNC_RETRY } from '../../src/lanes/sync/sync-executor.js';
import { writeCatalogWorkload, type OutputSinkName } from '../fixtures/catalog-workload.js';
import { catalogRecordOf } from '../fixtures/catalog-ledger.js';
import { BIN, cliEnv, runCli } from '../fixtures/cli.js';
import { killRounds, lastWords, soakSeed, watchKilledChild, type KillPoint } from '../fixtures/kill-soak.js';
import { spawnRunChild } from '../fixtures/killable-run.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { FAST_RETRY } from '../fixtures/session.js';

// The batch soak's promise on the synchronous lanes: runners SIGKILLed at random moments, on Flex
// alone and on `auto` mixing Batch, Flex and standard for a deadline, resumed until the run ends.
// Then the outside observers (the emulator's ledger, the outputs on disk, the CLI's status and runs)
// must show what the README's "What a kill costs, precisely" states: every record done once, its
// chain's context intact, each kill costing at most one extra bill per request it caught in flight,
// and every bill but those in the air at a kill counted by wavebatch. WB_SYNC_SOAK_SEED replays a seed.

const SEED = soakSeed('WB_SYNC_SOAK_SEED');
const KILL_ROUNDS = 5;
const CLI_ENV = { GEMINI_API_KEY: 'soak-key-not-secret' };
const SYNC_CONCURRENCY = 4;
const TIME_SCALE = 3_000;
/** Longer than any call's emulated latency (Flex's 15 minutes at most). */
const LONGEST_CALL_MS = 16 * 60_000;
/** A runner still alive after this has stopped making progress: killed, and the test fails with its last lines. */
const CHILD_DEADLINE_MS = 30_000;
/**
 * The runner's synchronous retries: the fast delays of FAST_RETRY, with as many tries as the lanes'
 * default (SYNC_RETRY's 8). A request whose every try is shed makes its lane rest 60 real seconds
 * (LANE_REST_MS), past CHILD_DEADLINE_MS: at a shed rate of 0.2 that is 0.2^4 per request with
 * FAST_RETRY's 4 tries, about one run in ten over this workload, and 0.2^8 with 8.
 */
const SOAK_SYNC_RETRY = { ...FAST_RETRY, maxAttempts: SYNC_RETRY.maxAttempts };

/** A line of a runner's events (the library child's stdout, the CLI's JSON log) saying a record settled: a kill's unit of work. */
const SETTLED = /"(type|event)":"(record-done|record-failed)"/;

/**
 * The process a round runs: the library's runner (test/fixtures/run-child.ts, printing its events,
 * then a summary) or the `wavebatch run` CLI (its JSON log at debug level on standard error, exit 0
 * once finished), each pointed at the emulator.
 */
function spawnRun(via: 'runner' | 'cli', configPath: string, url: string) {
  if (via === 'runner') {
    const child = spawnRunChild(configPath, url, {
      retryPolicy: FAST_RETRY,
      syncRetryPolicy: SOAK_SYNC_RETRY,
    });
    return { child, events: child.stdout, finishedBy: (line: string) => line.includes('"type":"summary"') };
  }
  const args = [BIN, 'run', '-c', configPath, '--json', '--log-format', 'json', '--log-level', 'debug'];
  const child = spawn(process.execPath, args, {
    env: cliEnv(CLI_ENV),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return {
    child,
    events: child.stderr,
    finishedBy: (line: string) => line.includes('"event":"run-finished"'),
  };
}

/**
 * Runs the workload in a child; resolves whether it finished (true) or was killed (false). A kill
 * point of 0 records kills it during its start-up (claims released, sources synced, the first sends).
 */
async function runChild(
  via: 'runner' | 'cli',
  configPath: string,
  url: string,
  kill: KillPoint | null,
): Promise<boolean> {
  const { child, events, finishedBy } = spawnRun(via, configPath, url);
  const end = await watchKilledChild(child, {
    events,
    work: SETTLED,
    kill,
    deadlineMs: CHILD_DEADLINE_MS,
    context: () => `${via}, seed ${SEED}`,
  });
  const finished = end.lines.some(finishedBy);
  // Killed: the kill came before the run said it finished.
  const killed = end.linesAtKill !== null && !end.lines.slice(0, end.linesAtKill).some(finishedBy);
  if ((!finished && !killed) || (finished && via === 'cli' && end.code !== 0 && !killed))
    throw new Error(
      `${via} failed (exit ${end.code}) (seed ${SEED}, kill ${JSON.stringify(kill)}); ${lastWords(end)}`,
    );
  return finished && !killed;
}

/** Moves emulated time past every call's latency, then waits for the emulator to look at its clock (every 50 ms). */
async function answerCallsInTheAir(advance: () => void): Promise<void> {
  advance();
  await new Promise((resolve) => setTimeout(resolve, 150));
}

interface Scenario {
  name: string;
  execution: Record<string, string | number>;
  sink: OutputSinkName;
  /**
   * Flex calls shed. The CLI waits Google's real backoff before sending a shed call again (a second
   * or so), where the library's runner here is given a fast one: the CLI's runs meet fewer.
   */
  flexShedRate: number;
  /** What is killed: the library's runner in a child, or the `wavebatch run` CLI. */
  via: 'runner' | 'cli';
  /** Lanes the ledger must show billed, so the soak really mixed them. */
  lanes: Lane[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'mode flex',
    execution: { mode: 'flex' },
    sink: 'files',
    via: 'runner',
    flexShedRate: 0.2,
    lanes: ['flex'],
  },
  {
    name: 'mode auto with a deadline',
    // Each chain's first steps by Batch while the rest still ends in time on Flex.
    execution: { mode: 'auto', deadline: '70m' },
    sink: 'jsonl',
    via: 'cli',
    flexShedRate: 0.03,
    lanes: ['batch', 'flex'],
  },
];

describe.each(SCENARIOS)('sync fault soak, $name', (scenario) => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterAll(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(`kill -9 at random moments loses nothing and bills each kill at most one call per request in flight (seed ${SEED})`, async () => {
    console.log(`sync fault soak (${scenario.name}): seed ${SEED}; replay with WB_SYNC_SOAK_SEED=${SEED}`);
    const draw = mulberry32(SEED);
    // Flex's 1-15 minutes in 20-300 real ms, batch jobs' 5-30 in 100-600: kills land mid-request.
    // The emulated clock runs from a real clock the test moves ahead after a kill, so the calls the
    // kill left in the air are answered, and billed, before the next run starts.
    let skewMs = 0;
    emulator = await startEmulator({
      timeScale: TIME_SCALE,
      realNow: () => Date.now() + skewMs,
      seed: SEED,
      turnaroundMs: { min: 5 * 60_000, max: 30 * 60_000 },
      // A busy Flex sheds calls (503, not billed, retried), and answers fail and are sent again,
      // billed each time: kills meet them too. (Not MAX_TOKENS: with no output limit set, a second
      // cut is at the cap and dead-letters its record, as documented.)
      tiers: { flex: { shedRate: scenario.flexShedRate } },
      faults: { rates: { invalid_json: 0.06, empty: 0.04 } },
    });
    const pagesPerBook = Array.from({ length: 8 }, () => 2 + Math.floor(draw() * 5));
    const workload = writeCatalogWorkload({
      books: pagesPerBook.length,
      pages: 1,
      pagesPerBook,
      execution: {
        sync_concurrency: SYNC_CONCURRENCY,
        poll_interval: '100ms',
        max_concurrent_jobs: 2,
        max_requests_per_job: 4,
        max_retries: 6,
        ...scenario.execution,
      },
      sink: scenario.sink,
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    root = workload.root;
    const ids = workload.chains.flat();

    // The ledger's entries billed while each run was alive, or after a kill (calls in the air).
    const windows: Array<{ from: number; killed: boolean }> = [];
    const { ledger: bills, url } = emulator;
    const finished = await killRounds({
      kills: KILL_ROUNDS,
      spareRounds: 3,
      // One kill in four during start-up (up to 1.5 s in: node and tsx load first), the others
      // after 1 to 4 records settled, at a random instant of the work that follows.
      nextKill: () =>
        draw() < 0.25
          ? { afterWork: 0, extraMs: 600 + Math.floor(draw() * 900) }
          : { afterWork: 1 + Math.floor(draw() * 4), extraMs: Math.floor(draw() * 60) },
      round: async (kill) => {
        windows.push({ from: bills.entries().length, killed: false });
        const ended = await runChild(scenario.via, workload.configPath, url, kill);
        (windows.at(-1) as { killed: boolean }).killed = !ended;
        if (!ended) await answerCallsInTheAir(() => (skewMs += LONGEST_CALL_MS / TIME_SCALE));
        return ended;
      },
    });
    const kills = windows.filter((w) => w.killed).length;
    const context = `seed ${SEED}, ${kills} kills`;
    expect(finished, context).toBe(true);
    expect(kills, context).toBeGreaterThanOrEqual(3);

    const ledger = emulator.ledger.entries();
    const billedLanes = new Set(ledger.map((entry) => entry.lane));
    for (const lane of scenario.lanes)
      expect(billedLanes.has(lane), `${lane} billed (${context})`).toBe(true);

    // No dead letter: each record had retries enough for its faults (a kill counts no attempt).
    const failures = await runCli(['failures', '-c', workload.configPath, '--dead'], { env: CLI_ENV });
    expect(failures.stdout + failures.stderr, `dead letters (${context})`).not.toMatch(/ST\/school/);

    // Every record done exactly once in its output (a JSONL id twice would fail the read).
    const outputs = readOutputs(join(root, 'out'), scenario.sink);
    expect([...outputs.keys()].sort(), context).toEqual([...ids].sort());

    // Chain context: every prompt billed for page N held page N-1's output's carry-over.
    for (const chain of workload.chains)
      for (let index = 1; index < chain.length; index++) {
        const carried = outputs.get(chain[index - 1] as string)?.output.carry_over as string;
        const prompts = ledger.filter((e) => catalogRecordOf(e) === chain[index]).map((e) => e.promptText);
        expect(prompts.length).toBeGreaterThan(0);
        for (const prompt of prompts) expect(prompt, `${chain[index]} (${context})`).toContain(carried);
      }

    // What a kill costs: every bill of a record but its last was a call a kill caught in flight (in
    // the air, or answered and not settled yet): billed in a killed run's window, at most one per
    // kill and record, and at most sync_concurrency per kill.
    const windowOf = (index: number) => windows.findLastIndex((w) => w.from <= index);
    // A failed answer (invalid JSON, empty) is billed and sent again by design: only the bills of
    // answers that were good are bought again by a kill.
    const billsOf = new Map<string, number[]>();
    ledger.forEach((entry: LedgerEntry, index) => {
      if (entry.outcome !== 'ok') return;
      const id = catalogRecordOf(entry);
      billsOf.set(id, [...(billsOf.get(id) ?? []), windowOf(index)]);
    });
    const lostPerKill = new Map<number, number>();
    for (const [id, runs] of billsOf) {
      const lost = runs.slice(0, -1);
      const where = `${id} billed in runs ${runs.join(',')} (${context})`;
      expect(
        lost.every((run) => windows[run]?.killed),
        where,
      ).toBe(true);
      expect(new Set(lost).size, where).toBe(lost.length);
      for (const run of lost) lostPerKill.set(run, (lostPerKill.get(run) ?? 0) + 1);
    }
    for (const [run, lost] of lostPerKill)
      expect(lost, `calls lost at the kill of run ${run} (${context})`).toBeLessThanOrEqual(SYNC_CONCURRENCY);

    // Accounted: status and runs count every bill but those in the air at a kill.
    emulator.setFaults({});
    const env = CLI_ENV;
    const status = await runCli(['status', '-c', workload.configPath, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    const billed = (JSON.parse(status.stdout) as { billed: { requests: number } }).billed.requests;
    const runs = await runCli(['runs', '-c', workload.configPath, '--json', '--limit', '100'], { env });
    expect(runs.code, runs.stderr).toBe(0);
    const history = JSON.parse(runs.stdout) as Array<{
      totals: { requests: number } | null;
      usage?: { requests: number } | null;
    }>;
    const inHistory = history.reduce(
      (sum, run) => sum + (run.totals?.requests ?? run.usage?.requests ?? 0),
      0,
    );
    const abandoned = ledger.length - billed;
    expect(billed, `status counts no more than was billed (${context})`).toBeLessThanOrEqual(ledger.length);
    expect(abandoned, `bills status does not count (${context})`).toBeLessThanOrEqual(
      kills * SYNC_CONCURRENCY,
    );
    expect(inHistory, `runs agree with status (${context})`).toBe(billed);
    const byLane = [...billedLanes].map((lane) => `${lane} ${ledger.filter((e) => e.lane === lane).length}`);
    console.log(
      `sync fault soak (${scenario.name}, seed ${SEED}): ${ids.length} records, ${kills} kills, ` +
        `${ledger.length} bills (${byLane.join(', ')}), ${[...lostPerKill.values()].reduce((a, b) => a + b, 0)} ` +
        `good answers lost at kills, ${abandoned} bills not counted by status`,
    );
  }, 90_000);
});
