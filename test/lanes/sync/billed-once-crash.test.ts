import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import type { ModelCall } from '../../../src/emulator/model/index.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { startCli, type RunningCli } from '../../fixtures/cli.js';

/** The catalog record a call is for, read from its prompt ("Transcribe page <n> of school<b>."). */
function recordOf(call: ModelCall): string {
  const match = /Transcribe page (\d+) of (school\d+)\./.exec(JSON.stringify(call.request));
  if (!match) throw new Error('not a catalog prompt');
  return `ST/${match[2]}/1900/page_${match[1]}`;
}

// The guarantee of a kill -9 on a synchronous lane: an answer settled in the store is never paid
// for again, and each request in flight at the kill (at most sync_concurrency) costs at most one
// extra call. A request whose answer had been cut at MAX_TOKENS started again at the first output
// limit after a resume, so the cut answer was bought twice: two extra calls for one request.
describe('kill -9 on the realtime lane, then a resume', () => {
  let emulator: RunningEmulator;
  let root = '';
  let configPath = '';
  const env = { GEMINI_API_KEY: 'billed-once-crash-test-key' };
  const CUT = 'ST/school1/1900/page_1';
  /** Shorter than the cut answer, so it fits the limit a cut answer is sent again with. */
  const ANSWER = '{"courses": ["Latin 101"], "carry_over": ""}';
  const calls: string[] = [];
  /** The record whose call was out at each kill. */
  const openAtKill: string[] = [];
  let running: RunningCli | null = null;

  function kill(record: string): void {
    openAtKill.push(record);
    running?.child.kill('SIGKILL');
  }

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 37,
      // Long enough that a killed process never reads the answer of the call it died during.
      tiers: { standard: { latencyMs: 400 } },
      responder: (call) => {
        const record = recordOf(call);
        const previous = calls.at(-1);
        calls.push(record);
        const limit = call.request.generationConfig?.maxOutputTokens;
        if (record === CUT) {
          // Its answer needs more than the first limit: cut at MAX_TOKENS, sent again at a larger one.
          if (limit === 300)
            return {
              response: {
                candidates: [
                  {
                    content: {
                      parts: [{ text: '{"courses": ["Latin 101", "Greek 102", "Hebrew 103", "Syr' }],
                    },
                    finishReason: 'MAX_TOKENS',
                  },
                ],
                // Cut at its limit of 300 tokens: sent again with 600, room for the answer and its thinking.
                usageMetadata: { candidatesTokenCount: 300 },
              },
            };
          // The re-send is out: the process dies before its answer comes back.
          if (!openAtKill.includes(CUT)) kill(CUT);
          return { text: ANSWER };
        }
        // The first call after another record's answer: that answer is settled (one request at a
        // time), this call is out.
        if (openAtKill.length === 1 && previous !== undefined && previous !== CUT) kill(record);
        return { text: ANSWER };
      },
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 5,
      pages: 1,
      execution: { mode: 'realtime', sync_concurrency: 1, max_retries: 3 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
    const yaml = readFileSync(configPath, 'utf8');
    writeFileSync(
      configPath,
      yaml.replace(
        '  name: gemini-2.5-flash\n',
        '  name: gemini-2.5-flash\n  generation_config:\n    maxOutputTokens: 300\n',
      ),
    );
  });

  afterAll(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('bills each record once, and a request in flight at a kill one extra call', async () => {
    let finished = false;
    for (let run = 0; run < 5 && !finished; run++) {
      const kills = openAtKill.length;
      running = startCli(['run', '-c', configPath], { env });
      const result = await running.result;
      running = null;
      if (openAtKill.length === kills) {
        expect(result.code, result.stderr).toBe(0);
        finished = true;
      }
    }
    expect(finished).toBe(true);
    expect(openAtKill).toHaveLength(2);
    // The calls out at the kills are billed too, once done.
    for (let waited = 0; emulator.ledger.entries().length < calls.length && waited < 10_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));

    const expected = new Map<string, number>();
    for (let book = 1; book <= 5; book++) expected.set(`ST/school${book}/1900/page_1`, 1);
    // The cut answer and the answer at the larger limit.
    expected.set(CUT, 2);
    for (const record of openAtKill) expected.set(record, (expected.get(record) ?? 0) + 1);
    expect(billsPerRecord(emulator.ledger.entries())).toEqual(expected);
  }, 120_000);
});
