import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import { runCli, startCli } from '../fixtures/cli.js';
import { killThenResume, loggedAttempts, writeFlexCatalog } from '../fixtures/killed-cli-run.js';
import { startFakeBraintrust, type BraintrustRow, type FakeBraintrust } from '../fixtures/fake-braintrust.js';

const GEMINI_KEY = 'bt-resume-gemini-key-61f0a2';
const BRAINTRUST_KEY = 'bt-resume-braintrust-key-0c93e4';

/** The llm rows received, by row id: what the app would show after replacing each row by its id. */
function rowsById(rows: BraintrustRow[]): Map<string, BraintrustRow> {
  const byId = new Map<string, BraintrustRow>();
  for (const row of rows) {
    const previous = byId.get(String(row.id));
    byId.set(String(row.id), {
      ...previous,
      ...row,
      metadata: { ...previous?.metadata, ...row.metadata },
      span_attributes: { ...previous?.span_attributes, ...row.span_attributes },
    });
  }
  return new Map([...byId].filter(([, row]) => row.span_attributes?.type === 'llm'));
}

/** `record/event` of each attempt, sorted: what the rows must name. */
function attemptKeys(attempts: StoredEvent[]): string[] {
  return attempts.map((attempt) => `${attempt.recordId}/${attempt.id}`).sort();
}

function rowKeys(rows: Iterable<BraintrustRow>): string[] {
  return [...rows].map((row) => `${row.metadata?.record_id}/${row.metadata?.event_id}`).sort();
}

function environment(braintrust: FakeBraintrust): Record<string, string> {
  return {
    GEMINI_API_KEY: GEMINI_KEY,
    BRAINTRUST_API_KEY: BRAINTRUST_KEY,
    BRAINTRUST_PROJECT: 'catalogs-resume',
    BRAINTRUST_APP_URL: braintrust.url,
    // A refused upload is reported at once, not after the SDK's retries.
    BRAINTRUST_NUM_RETRIES: '0',
  };
}

// A run killed with SIGKILL takes what its Braintrust SDK held (queued or in flight) with it; the
// run that resumes the workload logs those attempts from the inference log first.
describe('Braintrust logging of a killed run', () => {
  let emulator: RunningEmulator;
  let braintrust: FakeBraintrust;
  let root: string;
  let killedRunAttempts: StoredEvent[];
  let attempts: StoredEvent[];

  beforeAll(async () => {
    braintrust = await startFakeBraintrust();
    // The run is killed with requests in flight.
    emulator = await startEmulator({ timeScale: 3_000, seed: 23 });
    // JSONL shards: the log refers to each output's line, read back for its row.
    const workload = writeFlexCatalog(emulator.url, 3, 3, 'jsonl');
    root = workload.root;
    const args = ['run', '-c', workload.configPath];

    // The uploads of the killed run never get an answer: whatever its SDK held is lost with it.
    braintrust.answerLogs('hold');
    ({ killedRunAttempts, attempts } = await killThenResume({
      root,
      args,
      env: environment(braintrust),
      killAfter: 3,
      beforeResume: () => braintrust.answerLogs('ok'),
    }));
  }, 120_000);

  afterAll(async () => {
    await emulator.close();
    await braintrust.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('logs every attempt of both runs, by record and event id, each as one row', () => {
    expect(killedRunAttempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeGreaterThan(killedRunAttempts.length);
    const rows = rowsById(braintrust.rows);
    expect(rowKeys(rows.values())).toEqual(attemptKeys(attempts));
    const killedRun = killedRunAttempts[0]?.runId;
    expect([...rows.values()].filter((row) => row.metadata?.run_id === killedRun)).toHaveLength(
      killedRunAttempts.length,
    );
  });

  it("logs each done attempt's output, read back from its JSONL line", () => {
    const done = [...rowsById(braintrust.rows).values()].filter((row) => row.metadata?.outcome === 'done');
    expect(done.length).toBeGreaterThan(0);
    for (const row of done) expect(row.output).toHaveProperty('carry_over');
  });

  it('sends no secret', () => {
    expect(braintrust.bodies.length).toBeGreaterThan(0);
    for (const body of braintrust.bodies) {
      expect(body).not.toContain(GEMINI_KEY);
      expect(body).not.toContain(BRAINTRUST_KEY);
    }
  });
});

// An app that took the rows and answered 500: the watermark stays, and the next run sends the same
// rows again, under the same ids, so the app replaces each instead of showing it twice.
describe('Braintrust logging refused by the app', () => {
  let emulator: RunningEmulator;
  let braintrust: FakeBraintrust;
  let root: string;
  let refusedRun: { code: number | null; stderr: string };
  let refusedRows: BraintrustRow[];
  let attempts: StoredEvent[];

  beforeAll(async () => {
    braintrust = await startFakeBraintrust();
    emulator = await startEmulator({ timeScale: 3_000, seed: 31 });
    const workload = writeFlexCatalog(emulator.url, 2, 2);
    root = workload.root;
    braintrust.answerLogs('refuse');
    refusedRun = await runCli(['run', '-c', workload.configPath], { env: environment(braintrust) });
    refusedRows = [...braintrust.rows];
    braintrust.answerLogs('ok');
    const again = await runCli(['run', '-c', workload.configPath], { env: environment(braintrust) });
    expect(again.code).toBe(0);
    attempts = await loggedAttempts(root);
  }, 120_000);

  afterAll(async () => {
    await emulator.close();
    await braintrust.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('finishes the run, says logging is degraded, and sends the refused attempts again with the next run', () => {
    expect(refusedRun.code).toBe(0);
    expect(refusedRun.stderr.match(/Braintrust logging is degraded/g)).toHaveLength(1);
    expect(refusedRun.stderr).not.toContain(BRAINTRUST_KEY);
    const refused = rowsById(refusedRows);
    expect(rowKeys(refused.values())).toEqual(attemptKeys(attempts));
    const accepted = rowsById(braintrust.rows.slice(refusedRows.length));
    expect(rowKeys(accepted.values())).toEqual(attemptKeys(attempts));
    // The same rows: the app replaces each by its id, one row per attempt in the end.
    expect([...accepted.keys()].sort()).toEqual([...refused.keys()].sort());
    expect(rowsById(braintrust.rows).size).toBe(attempts.length);
  });
});

// A run killed mid-export: the app took a first page of rows and the store recorded it; the rows
// after it were only in the inference log. The run that resumes sends those, and none of the first.
describe('Braintrust logging of a run killed mid-export', () => {
  let emulator: RunningEmulator;
  let braintrust: FakeBraintrust;
  let root: string;
  let beforeKill: BraintrustRow[];
  let attempts: StoredEvent[];
  let killedRunAttempts: StoredEvent[];

  beforeAll(async () => {
    braintrust = await startFakeBraintrust();
    // Flex answers in 0.3 to 4.5 real seconds: the run lasts well past its first page (5 s in).
    emulator = await startEmulator({ timeScale: 200, seed: 37 });
    const workload = writeFlexCatalog(emulator.url, 4, 3);
    root = workload.root;
    const args = ['run', '-c', workload.configPath];
    const killed = startCli([...args, '--log-level', 'debug'], { env: environment(braintrust) });
    let done = 0;
    killed.child.stderr?.on(
      'data',
      (chunk: string) => (done += chunk.split('"event":"record-done"').length - 1),
    );
    // A page of attempts is exported every 5 s: killed once an attempt is logged after the first
    // page reached the app (and the store recorded it), before the next page.
    const deadline = Date.now() + 60_000;
    const until = async (ready: () => boolean) => {
      while (!ready() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await until(() => rowsById(braintrust.rows).size > 0);
    // The page's rows may come in more than one upload.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const firstPage = rowsById(braintrust.rows).size;
    await until(() => done > firstPage);
    await new Promise((resolve) => setTimeout(resolve, 200));
    killed.child.kill('SIGKILL');
    expect((await killed.result).code, 'killed by SIGKILL').toBeNull();
    beforeKill = [...braintrust.rows];
    killedRunAttempts = await loggedAttempts(root);
    const resumed = await runCli(args, { env: environment(braintrust) });
    expect(resumed.code, resumed.stderr).toBe(0);
    attempts = await loggedAttempts(root);
  }, 120_000);

  afterAll(async () => {
    await emulator?.close();
    await braintrust?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('sends every attempt once: the rows the killed run delivered are not sent again', () => {
    const killedRun = rowsById(beforeKill);
    const resumed = rowsById(braintrust.rows.slice(beforeKill.length));
    expect(killedRun.size).toBeGreaterThan(0);
    // The killed run had logged attempts it never sent.
    expect(killedRunAttempts.length).toBeGreaterThan(killedRun.size);
    expect([...resumed.keys()].filter((id) => killedRun.has(id))).toEqual([]);
    expect(rowKeys([...killedRun.values(), ...resumed.values()])).toEqual(attemptKeys(attempts));
  });

  it('gives each row its prompt version, lane, usage and cost as the log and the ledger have them', () => {
    const rows = rowsById(braintrust.rows);
    for (const attempt of attempts) {
      const row = [...rows.values()].find((candidate) => candidate.metadata?.event_id === attempt.id);
      expect(row?.metadata).toMatchObject({
        run_id: attempt.runId,
        record_id: attempt.recordId,
        lane: 'flex',
        prompt_name: 'page',
        prompt_version: 'v1',
        outcome: attempt.type,
      });
      expect(row?.metrics).toMatchObject({
        prompt_tokens: attempt.inputTokens,
        completion_tokens: attempt.outputTokens,
        completion_reasoning_tokens: attempt.thoughtsTokens,
        tokens: attempt.inputTokens + attempt.outputTokens,
      });
      expect(row?.metrics?.cost_usd).toBeCloseTo(attempt.costUsd ?? Number.NaN, 12);
    }
    // Every row was billed as it says; the ledger also bills the requests the kill left in flight
    // (at most sync_concurrency, 2), which no attempt logged.
    const billed = emulator.ledger
      .entries()
      .map((entry) => [entry.inputTokens, entry.outputTokens, entry.costUsd]);
    for (const row of rows.values()) {
      const at = billed.findIndex(
        ([input, output, cost]) =>
          input === row.metrics?.prompt_tokens &&
          output === row.metrics?.completion_tokens &&
          cost === row.metrics?.cost_usd,
      );
      expect(at, `the bill of ${String(row.metadata?.record_id)}`).toBeGreaterThanOrEqual(0);
      billed.splice(at, 1);
    }
    expect(billed.length).toBeLessThanOrEqual(2);
  });
});
