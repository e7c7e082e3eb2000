import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

// On a synchronous lane an answer cut at MAX_TOKENS is sent again with a larger output limit: the
// API bills both. The attempt's cost had both; its request count said one, so status, runs and the
// report counted fewer requests than the ledger billed.
describe('answers cut at MAX_TOKENS on the realtime lane', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'resent-requests-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 3600,
      seed: 21,
      faults: { rates: { max_tokens: 0.5 } },
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 6,
      pages: 2,
      execution: { mode: 'realtime', max_retries: 3 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
    // With an output limit set, a cut answer is sent again at twice it, rung after rung up to 65,536.
    // Without one it is sent again at 65,536 at once, and a second cut there (this fault cuts one
    // call in two at any limit) would be final, dead-lettering a quarter of the records.
    writeFileSync(
      configPath,
      readFileSync(configPath, 'utf8').replace(
        '  name: gemini-2.5-flash\n',
        '  name: gemini-2.5-flash\n  generation_config:\n    maxOutputTokens: 256\n',
      ),
    );
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('are each counted as a billed request, as the ledger bills them', async () => {
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code).toBe(0);
    const ledger = emulator.ledger.entries();
    // The fault did cut answers: more requests billed than records.
    expect(ledger.length).toBeGreaterThan(12);
    const status = JSON.parse((await runCli(['status', '--json', '-c', configPath], { env })).stdout) as {
      billed: { requests: number; inputTokens: number; outputTokens: number };
    };
    expect(status.billed).toMatchObject({
      requests: ledger.length,
      inputTokens: ledger.reduce((sum, entry) => sum + entry.inputTokens, 0),
      outputTokens: ledger.reduce((sum, entry) => sum + entry.outputTokens, 0),
    });
  });
});

// A request the API refused (a 400 for the request itself) is not billed: it counted one request,
// as a batch error row counts none.
describe('requests refused by the API on the Flex lane', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'refused-requests-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({
      timeScale: 3600,
      seed: 22,
      responder: (call) =>
        JSON.stringify(call.request).includes('page 2 of')
          ? { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'refused by the test' } }
          : undefined,
    });
    ({ root, configPath } = writeCatalogWorkload({
      books: 3,
      pages: 2,
      execution: { mode: 'flex', max_retries: 0 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('count no billed request, as the ledger bills none', async () => {
    const run = await runCli(['run', '-c', configPath], { env });
    expect(run.code).toBe(3);
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(3);
    const status = JSON.parse((await runCli(['status', '--json', '-c', configPath], { env })).stdout) as {
      records: { dead: number };
      billed: { requests: number };
    };
    expect(status.records.dead).toBe(3);
    expect(status.billed.requests).toBe(3);
  });
});
