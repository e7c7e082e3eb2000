import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import type { StoredEvent } from '../../../src/store/event-log.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runCli, startCli, type RunningCli } from '../../fixtures/cli.js';
import { until } from '../../fixtures/until.js';

// A call whose answer was cut off half-way is billed by Google: it is logged before the next try is
// sent, so a kill -9 while that try is out does not lose it from the inference log.
describe('a call with no answer, at a kill -9 during the next try', () => {
  let emulator: RunningEmulator;
  let root = '';
  let configPath = '';
  const env = { GEMINI_API_KEY: 'unanswered-call-crash-test-key' };
  let received = 0;
  let running: RunningCli | null = null;

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 5,
      // Long enough that a killed process never reads the answer of the call it died during.
      tiers: { standard: { latencyMs: 400 } },
      faults: { http: [{ kind: 'reset_mid_body', match: 'generate', count: 1 }] },
      responder: () => {
        received += 1;
        // The first call's answer is cut off; the process dies while the second is out.
        if (received === 2) running?.child.kill('SIGKILL');
        return undefined;
      },
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { mode: 'realtime', sync_concurrency: 1, max_retries: 3 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
  });

  afterAll(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('is in the inference log after a resume, as in the ledger', async () => {
    running = startCli(['run', '-c', configPath], { env });
    await running.result;
    running = null;
    // The call out at the kill is billed all the same once done: it is the one lost call.
    await until(() => emulator.ledger.entries().length === 2, 'the cut and the lost call to be billed');
    const resumed = await runCli(['run', '-c', configPath], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(3);

    const log = (await runCli(['log', '--kind', 'attempt', '--json', '-c', configPath], { env })).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as StoredEvent);
    expect(log.map((event) => [event.type, event.cause, event.requests, event.costUsd === null])).toEqual([
      ['retry', 'answer_cut', 1, true],
      ['done', null, 1, false],
    ]);
  }, 60_000);
});
