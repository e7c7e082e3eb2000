import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { useJsonlSource, writeCatalogWorkload, type CatalogRow } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';

const row = (id: string, book: string): CatalogRow => ({ id, book, page: 1, school: book.toUpperCase() });

// Records taken out of the source (or left out by a narrower filter) after a first run were still
// sent and billed by the next one: the store kept them ready. The emulator's ledger says what was paid.
describe('records removed from the source between runs', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  const env = { GEMINI_API_KEY: 'source-removal-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 6 });
    ({ root, configPath } = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    }));
    useJsonlSource(configPath, [row('a1', 'a'), row('b1', 'b'), row('c1', 'c')]);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('are never sent: the next run drops them, says so, and bills only what the source still has', async () => {
    const first = await runCli(['run', '--limit', '1', '-c', configPath], { env });
    expect(first.code).toBe(0);
    const billed = emulator.ledger.entries().map((entry) => entry.key);
    expect(billed).toHaveLength(1);
    const [sent] = billed as [string];
    // The one sent stays in the source; of the two never sent, one leaves it.
    const kept = sent === 'b1' ? 'a1' : 'b1';
    useJsonlSource(
      configPath,
      [sent, kept].map((id) => row(id, id.slice(0, 1))),
    );

    const second = await runCli(['run', '-c', configPath], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('1 unsent no longer in the source dropped');
    expect(second.stdout).toContain('records: 2 done');
    expect(
      emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual([sent, kept].sort());
  });
});
