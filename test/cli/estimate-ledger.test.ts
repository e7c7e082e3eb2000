import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type LedgerEntry, type RunningEmulator } from '../../src/emulator/index.js';
import type { WorkloadEstimate } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli, type CliResult } from '../fixtures/cli.js';
import { writeBlankPng, writeNoisePng } from '../media/png.js';
import { mp4Bytes, wavBytes } from '../media/timed-media.js';
import { billed } from '../fixtures/billed-figures.js';

/** The margin the README states for an estimate after a pilot round, calibrated. */
const TOLERANCE = 0.15;
const env = { GEMINI_API_KEY: 'estimate-ledger-key-not-secret' };

/** How far `estimated` is from `billed`, as a share of `billed`. */
function offBy(estimated: number, billed: number): number {
  return Math.abs(estimated - billed) / billed;
}

// `wavebatch estimate` against what `wavebatch run` then bills: the emulator's ledger is the judge.
describe('wavebatch estimate against the ledger of the run', () => {
  let emulator: RunningEmulator;
  const roots: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, seed: 8 });
  });

  afterAll(async () => {
    await emulator.close();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  /** A catalog workload on `mode` whose pages are `extension` files of `bytes`, in `books` chains of `pages`. */
  function mediaWorkload(
    mode: string,
    bytes: Buffer,
    extension: string,
    execution: Record<string, number> = {},
    pages = 3,
    books = 2,
  ) {
    const workload = writeCatalogWorkload({
      books,
      pages,
      execution: { mode, poll_interval: '1s', ...execution },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    roots.push(workload.root);
    for (const chain of workload.chains)
      for (const id of chain) {
        rmSync(join(workload.root, 'dataset', `${id}.txt`));
        writeFileSync(join(workload.root, 'dataset', `${id}.${extension}`), bytes);
      }
    const yaml = readFileSync(workload.configPath, 'utf8');
    writeFileSync(
      workload.configPath,
      yaml.replace(
        'levels: [state, school, year]',
        `levels: [state, school, year]\n  extensions: [.${extension}]`,
      ),
    );
    return workload;
  }

  /** `wavebatch estimate --json` with `args`, as the command printed it. */
  async function estimateOf(configPath: string, args: string[] = []): Promise<WorkloadEstimate> {
    const estimated = await runCli(['estimate', '-c', configPath, '--json', ...args], { env });
    expect(estimated.code, estimated.stderr).toBe(0);
    return JSON.parse(estimated.stdout) as WorkloadEstimate;
  }

  /** Runs the workload through `wavebatch run` to its end: the command's result, and what the emulator billed meanwhile. */
  async function billedRun(configPath: string): Promise<{ run: CliResult; bills: LedgerEntry[] }> {
    const before = emulator.ledger.entries().length;
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code, run.stderr).toBe(0);
    return { run, bills: emulator.ledger.entries().slice(before) };
  }

  /** A pilot (`run-once`), the estimate (calibrated), then the rest of the run; the ledger's bills. */
  async function pilotEstimateRun(configPath: string) {
    const pilot = await runCli(['run-once', '-c', configPath], { env });
    expect(pilot.code, pilot.stderr).toBe(0);
    const estimate = await estimateOf(configPath, ['--calibrate', '3']);
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code, run.stderr).toBe(0);
    const ledger = emulator.ledger.entries().filter((entry) => entry.model === estimate.model);
    return { estimate, ledger };
  }

  it('prices audio at the model audio rate, as the ledger bills it', async () => {
    const before = emulator.ledger.entries().length;
    const workload = mediaWorkload('flex', wavBytes(60), 'wav');
    const { estimate, ledger } = await pilotEstimateRun(workload.configPath);
    const bills = ledger.slice(before);
    expect(bills).toHaveLength(6);
    expect(bills.every((entry) => entry.lane === 'flex')).toBe(true);
    const input = billed(bills).all.inputTokens;
    const cost = billed(bills).all.costUsd;
    expect(offBy(estimate.tokens.input, input)).toBeLessThanOrEqual(TOLERANCE);
    expect(offBy(estimate.modes.flex.costUsd ?? 0, cost)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('status and runs say what the ledger billed for audio: the audio rate, not the text rate', async () => {
    const workload = mediaWorkload('batch', wavBytes(30), 'wav');
    const { bills } = await billedRun(workload.configPath);
    expect(bills).toHaveLength(6);
    const cost = billed(bills).all.costUsd;

    const status = await runCli(['status', '-c', workload.configPath, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    const figures = JSON.parse(status.stdout) as { billed: { costUsd: number } };
    expect(figures.billed.costUsd).toBeCloseTo(cost, 9);
    const runs = await runCli(['runs', '-c', workload.configPath, '--json'], { env });
    const [latest] = JSON.parse(runs.stdout) as Array<{ totals: { costUsd: number } }>;
    expect(latest?.totals.costUsd).toBeCloseTo(cost, 9);
  });

  it('counts uploaded audio and video by their length, as the API bills them, in the estimate and in the jobs a run plans', async () => {
    // A 20-second MP4 of a few hundred bytes and a 44.1 kHz stereo WAV (1,411 kbit/s): either is far
    // from the byte rate assumed for a file whose length is not read (2 Mbit/s, 128 kbit/s).
    const stereo = wavBytes(4);
    stereo.writeUInt16LE(2, 22); // channels
    stereo.writeUInt32LE(44_100, 24); // sample rate
    stereo.writeUInt32LE(44_100 * 4, 28); // byte rate: 4 s of 8 kHz mono is 0.73 s of this
    for (const [bytes, extension] of [
      [mp4Bytes(20), 'mp4'],
      [stereo, 'wav'],
    ] as const) {
      // Every file uploaded; chains of one, so no context allowance: the input is the files' and the prompt's.
      const workload = mediaWorkload('batch', bytes, extension, { media_upload_bytes: 1 }, 1);
      const estimate = await estimateOf(workload.configPath);
      const { bills, run } = await billedRun(workload.configPath);
      expect(bills).toHaveLength(2);
      const input = billed(bills).all.inputTokens;
      expect(offBy(estimate.tokens.input, input), extension).toBeLessThanOrEqual(TOLERANCE);
      // The run plans its jobs (the enqueued-token budget) with the same count.
      const planned = run.stderr
        .split('\n')
        .filter((line) => line.includes('"event":"job-submitted"'))
        .reduce((sum, line) => sum + (JSON.parse(line) as { estimatedTokens: number }).estimatedTokens, 0);
      expect(offBy(planned, input), extension).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it("an auto run's batch-only comparison sees the waves estimate projects: the tier's enqueued-token cap holds jobs to a record each", async () => {
    // Each record's prompt is some 60 tokens: a tier allowing 100 in batch jobs at once holds one
    // record at a time (the jobs alone, 3 of 4 requests, would hold all 12 in one wave).
    const workload = writeCatalogWorkload({
      books: 4,
      pages: 3,
      execution: { mode: 'auto', poll_interval: '1s' },
      extraYaml: [
        `api:\n  base_url: ${emulator.url}`,
        'limits:',
        '  models:',
        '    gemini-2.5-flash:',
        '      batch_enqueued_tokens: 100',
      ].join('\n'),
    });
    roots.push(workload.root);
    const estimated = await runCli(
      ['estimate', '-c', workload.configPath, '--json', '--output-tokens', '10'],
      { env },
    );
    expect(estimated.code, estimated.stderr).toBe(0);
    const estimate = JSON.parse(estimated.stdout) as WorkloadEstimate;
    expect(estimate.modes.batch.rounds).toBe(12);
    const run = await runCli(['run', '-c', workload.configPath, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      batchOnly: { projectedMs: { low: number; high: number }; turnaroundSamples: number } | null;
    };
    // No batch job measured: both rest on the same assumed turnaround (1 h typical, 8 h slow).
    expect(summary.batchOnly?.turnaroundSamples).toBe(0);
    expect(summary.batchOnly?.projectedMs).toEqual(estimate.modes.batch.timeMs);
  });

  it('prices grouped requests as the batch lane forms them: a chain step at a time, never two records of one chain', async () => {
    // Two chains of six pages, four records a request: each step has only two records ready, so the
    // run sends 6 requests of 2 (the instructions 6 times), not 3 of 4.
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 6,
      execution: { records_per_request: 4, poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    roots.push(workload.root);
    const instructions = 'Transcribe every course: code, title, credits, prerequisites. '.repeat(10);
    writeFileSync(
      join(workload.root, 'prompts/page/v1.jinja'),
      `${instructions}\n{% for r in records %}Page {{ r.page }} of {{ r.school }}: {{ r.context }}\n{% endfor %}`,
    );
    const { bills } = await billedRun(workload.configPath);
    expect(bills).toHaveLength(6);
    // Estimated with every output known (the output and context sizes need no guess).
    const estimate = await estimateOf(workload.configPath, ['--calibrate', '2']);
    const input = billed(bills).all.inputTokens;
    const cost = billed(bills).all.costUsd;
    expect(offBy(estimate.tokens.input, input)).toBeLessThanOrEqual(TOLERANCE);
    expect(offBy(estimate.modes.batch.costUsd ?? 0, cost)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("max_cost prices a record's audio at the audio rate before sending it, so a run's bill stays under the cap", async () => {
    // Six one-minute recordings on Flex: 1,920 audio tokens each, $0.00096 at Flex's audio rate
    // ($0.00029 at its text rate), and some 130 output tokens.
    const workload = mediaWorkload('flex', wavBytes(60), 'wav', {}, 1, 6);
    // A first record alone, so the run knows how long answers are (its output guess is not the cap's margin).
    const pilot = await runCli(['run', '-c', workload.configPath, '--limit', '1'], { env });
    expect(pilot.code, pilot.stderr).toBe(0);
    const maxCost = 0.0035;
    writeFileSync(
      workload.configPath,
      readFileSync(workload.configPath, 'utf8').replace(
        'execution:\n',
        `execution:\n  max_cost: ${maxCost}\n`,
      ),
    );
    const { bills } = await billedRun(workload.configPath);
    expect(bills.length).toBeGreaterThan(0);
    expect(bills.length).toBeLessThan(5);
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
  });

  it("projects a lane's time from the latencies earlier runs measured on it, as the run plans with them", async () => {
    // Flex answers in 1-15 emulated minutes, 17-250 real ms here: far from the prior (5 to 15 min).
    const workload = writeCatalogWorkload({
      books: 4,
      pages: 4,
      execution: { mode: 'flex', poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    roots.push(workload.root);
    // Two chains of four: eight Flex answers timed, more than the prior's weight of four.
    const pilot = await runCli(['run', '-c', workload.configPath, '--limit', '8'], { env });
    expect(pilot.code, pilot.stderr).toBe(0);
    const estimated = await runCli(['estimate', '-c', workload.configPath, '--json'], { env });
    expect(estimated.code, estimated.stderr).toBe(0);
    const { timeMs } = (JSON.parse(estimated.stdout) as WorkloadEstimate).modes.flex;
    const run = await runCli(['run', '-c', workload.configPath, '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const { elapsedMs } = JSON.parse(run.stdout) as { elapsedMs: number };
    // The other two chains take as many rounds as the workload's are deep: within a factor of 5 of the range.
    expect(elapsedMs).toBeGreaterThanOrEqual((timeMs.low ?? 0) / 5);
    expect(elapsedMs).toBeLessThanOrEqual((timeMs.high ?? 0) * 5);
  });

  it('a priority request served by standard costs what the ledger bills, standard, in status and runs', async () => {
    // Priority holds one request a minute here: Google serves the rest by standard, at standard's price.
    const tiered = await startEmulator({
      timeScale: 3600,
      seed: 9,
      tierQuotas: { tiers: { priority: { rpm: 1 } } },
    });
    try {
      // A deadline only priority's latency meets (its slow figure 1 min; standard's 2 min), in tier 2.
      const workload = writeCatalogWorkload({
        books: 6,
        pages: 1,
        execution: { mode: 'auto', deadline: '90s', poll_interval: '1s' },
        extraYaml: `api:\n  base_url: ${tiered.url}\nlimits:\n  usage_tier: tier2`,
      });
      roots.push(workload.root);
      const run = await runCli(['run', '-c', workload.configPath], { env });
      expect(run.code, run.stderr).toBe(0);
      const bills = tiered.ledger.entries();
      expect(bills.filter((entry) => entry.lane === 'priority').length).toBeGreaterThan(0);
      expect(bills.filter((entry) => entry.lane === 'standard').length).toBeGreaterThan(0);
      const cost = billed(bills).all.costUsd;
      const status = await runCli(['status', '-c', workload.configPath, '--json'], { env });
      expect((JSON.parse(status.stdout) as { billed: { costUsd: number } }).billed.costUsd).toBeCloseTo(
        cost,
        9,
      );
      const runs = await runCli(['runs', '-c', workload.configPath, '--json'], { env });
      const [latest] = JSON.parse(runs.stdout) as Array<{ totals: { costUsd: number } }>;
      expect(latest?.totals.costUsd).toBeCloseTo(cost, 9);
    } finally {
      await tiered.close();
    }
  });

  it('--calibrate counts the prompts of requests whose media are uploaded, instead of leaving them out', async () => {
    const scan = join(mkdtempSync(join(tmpdir(), 'wb-scan-')), 'scan.png');
    roots.push(dirname(scan));
    writeBlankPng(scan, 1000, 1400);
    // Every scan uploaded (none is sent for an estimate): the prompts are what countTokens can check.
    const workload = mediaWorkload('batch', readFileSync(scan), 'png', { media_upload_bytes: 1 }, 1, 3);
    const estimate = await estimateOf(workload.configPath, ['--calibrate', '2']);
    expect(estimate.tokens.inputSource).toMatchObject({ kind: 'calibrated', samples: 2 });
    const { bills } = await billedRun(workload.configPath);
    expect(bills).toHaveLength(3);
    const input = billed(bills).all.inputTokens;
    expect(offBy(estimate.tokens.input, input)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('projects batch waves with as many requests a job as max_job_bytes lets a run pack, as the ledger shows', async () => {
    const scan = join(mkdtempSync(join(tmpdir(), 'wb-noise-')), 'scan.png');
    roots.push(dirname(scan));
    writeNoisePng(scan, 200, 200, 7); // some 120 kB inline, 160 kB of base64 in its request line
    // Six scans in chains of one, 3 jobs at once of up to 4 requests; a job of 200 kB holds one.
    const workload = mediaWorkload('batch', readFileSync(scan), 'png', { max_job_bytes: 200_000 }, 1, 6);
    const estimate = await estimateOf(workload.configPath);
    const { bills } = await billedRun(workload.configPath);
    expect(bills).toHaveLength(6);
    const perJob = new Map<string | null, number>();
    for (const entry of bills) perJob.set(entry.batchName, (perJob.get(entry.batchName) ?? 0) + 1);
    const mostPerJob = Math.max(...perJob.values());
    expect(estimate.modes.batch.rounds).toBe(Math.ceil(6 / (3 * mostPerJob)));
  });
});
