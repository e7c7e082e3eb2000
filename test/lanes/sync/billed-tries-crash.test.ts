import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import type { ModelCall } from '../../../src/emulator/model/index.js';
import { billed } from '../../fixtures/billed-figures.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runCli, startCli, type RunningCli } from '../../fixtures/cli.js';
import { until } from '../../fixtures/until.js';

// A synchronous request's earlier tries (an answer cut at MAX_TOKENS and sent again, an empty answer
// sent again) were logged only when the request settled: a kill -9 while the next try was out lost
// them from status and the inference log, though Google had billed them.
describe('the billed tries of a synchronous request still going at a kill -9', () => {
  let emulator: RunningEmulator;
  let root = '';
  let configPath = '';
  const env = { GEMINI_API_KEY: 'billed-tries-crash-test-key' };
  /** Calls received per record, and the CLI to kill at a record's second call. */
  const calls = new Map<string, number>();
  let received = 0;
  let running: RunningCli | null = null;
  const killedAt = new Set<string>();

  /** Page 1 of school 1 is cut at MAX_TOKENS first, that of school 2 empty; each is killed at its second call. */
  function respond(call: ModelCall) {
    received += 1;
    const record = recordOf(call);
    const count = (calls.get(record) ?? 0) + 1;
    calls.set(record, count);
    if (count === 1 && record.includes('school1/'))
      return {
        response: {
          candidates: [{ content: { parts: [{ text: '{"courses": ["Lat' }] }, finishReason: 'MAX_TOKENS' }],
        },
      };
    if (count === 1 && record.includes('school2/')) return { response: { candidates: [] } };
    if (count === 2 && !killedAt.has(record)) {
      // The try that follows a billed one is out: the process dies before its answer comes back.
      killedAt.add(record);
      running?.child.kill('SIGKILL');
    }
    return undefined;
  }

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 31,
      // Long enough that a killed process never reads the answer of the call it died during.
      tiers: { standard: { latencyMs: 400 } },
      responder: respond,
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 3,
      pages: 1,
      execution: { mode: 'realtime', sync_concurrency: 1, max_retries: 3 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
  });

  afterAll(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('are in status, the run history and the inference log after a resume, as in the ledger', async () => {
    /** Ledger positions of the calls out at the kills. */
    const lost: number[] = [];
    let finished = false;
    for (let run = 0; run < 4 && !finished; run++) {
      const kills = killedAt.size;
      running = startCli(['run', '-c', configPath], { env });
      const result = await running.result;
      running = null;
      if (killedAt.size > kills) {
        // The call out at the kill is billed all the same once done: it is the one lost call.
        await until(() => emulator.ledger.entries().length === received, 'the lost call to be billed');
        lost.push(received - 1);
      } else {
        expect(result.code, result.stderr).toBe(0);
        finished = true;
      }
    }
    expect(finished).toBe(true);
    expect([...killedAt].sort()).toEqual(['ST/school1/1900/page_1', 'ST/school2/1900/page_1']);

    const ledger = emulator.ledger.entries();
    // Two cut or empty tries, two lost calls, three answers.
    expect(ledger).toHaveLength(7);
    const expected = billed(ledger.filter((_, index) => !lost.includes(index))).all;
    const status = JSON.parse((await runCli(['status', '--json', '-c', configPath], { env })).stdout) as {
      billed: { requests: number; inputTokens: number; outputTokens: number; costUsd: number };
    };
    expect(status.billed).toMatchObject({
      requests: expected.requests,
      inputTokens: expected.inputTokens,
      outputTokens: expected.outputTokens,
    });
    expect(status.billed.costUsd).toBeCloseTo(expected.costUsd, 12);

    // The run history too: the killed runs (no totals) by what their logged attempts add up to.
    type Sums = { requests: number; inputTokens: number; outputTokens: number };
    const runs = JSON.parse((await runCli(['runs', '--json', '-c', configPath], { env })).stdout) as Array<{
      totals: Sums | null;
      usage?: Sums;
    }>;
    const billedByRuns = (field: keyof Sums) =>
      runs.reduce((total, run) => total + (run.totals ?? run.usage ?? { [field]: 0 })[field], 0);
    expect({
      requests: billedByRuns('requests'),
      inputTokens: billedByRuns('inputTokens'),
      outputTokens: billedByRuns('outputTokens'),
    }).toEqual({
      requests: expected.requests,
      inputTokens: expected.inputTokens,
      outputTokens: expected.outputTokens,
    });

    // The inference log, attempt by attempt, adds up to the same.
    const log = (await runCli(['log', '--kind', 'attempt', '--json', '-c', configPath], { env })).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { requests: number; inputTokens: number; outputTokens: number });
    const sum = (field: 'requests' | 'inputTokens' | 'outputTokens') =>
      log.reduce((total, event) => total + event[field], 0);
    expect({
      requests: sum('requests'),
      inputTokens: sum('inputTokens'),
      outputTokens: sum('outputTokens'),
    }).toEqual({
      requests: expected.requests,
      inputTokens: expected.inputTokens,
      outputTokens: expected.outputTokens,
    });
  }, 120_000);
});

/** The catalog record a call is for, read from its prompt ("Transcribe page <n> of school<b>."). */
function recordOf(call: ModelCall): string {
  const match = /Transcribe page (\d+) of (school\d+)\./.exec(JSON.stringify(call.request));
  if (!match) throw new Error('not a catalog prompt');
  return `ST/${match[2]}/1900/page_${match[1]}`;
}
