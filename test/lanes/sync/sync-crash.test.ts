import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { OUTPUT_SINKS, writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { catalogRecordOf } from '../../fixtures/catalog-ledger.js';
import { readOutputs } from '../../fixtures/output-reader.js';
import { runChild as runKillableChild, type ChildOutcome } from '../../fixtures/killable-run.js';

/** Runs the workload in a child; SIGKILLs it once `killAfter` records are done in it (synchronous requests still in flight). */
function runChild(configPath: string, url: string, killAfter: number | null): Promise<ChildOutcome> {
  return runKillableChild(configPath, url, killAfter, (line) => line.includes('"type":"record-done"'));
}

/** Records the store says are done (their results applied). */
async function doneRecords(root: string): Promise<Set<string>> {
  const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
  try {
    return new Set((await store.listRecords({ status: 'done' })).map((record) => record.id));
  } finally {
    await store.close();
  }
}

describe.each(OUTPUT_SINKS)('SIGKILL during synchronous requests, %s output sink', (sink) => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterAll(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('loses nothing, and never bills again a record whose result was applied', async () => {
    // Flex's 1-15 minutes in 20-300 real ms: kills land while requests are in flight.
    emulator = await startEmulator({ timeScale: 3_000, seed: 13 });
    const workload = writeCatalogWorkload({
      books: 6,
      pages: 4,
      sink,
      execution: { mode: 'flex', sync_concurrency: 4, poll_interval: '200ms' },
    });
    root = workload.root;
    const ids = workload.chains.flat();

    let kills = 0;
    let outcome = { finished: false };
    for (const killAfter of [1, 2, 1, 3, 2, 4, 1, 3, 2, 5]) {
      outcome = await runChild(workload.configPath, emulator.url, killAfter);
      if (outcome.finished) break;
      kills += 1;
      // Whatever the store says was applied must never be billed again, by any later run.
      const applied = await doneRecords(root);
      const billedSoFar = emulator.ledger.entries().length;
      outcome = await runChild(workload.configPath, emulator.url, 1);
      kills += outcome.finished ? 0 : 1;
      const later = emulator.ledger.entries().slice(billedSoFar).map(catalogRecordOf);
      // Answers the killed child abandoned may still be billed; those records were not applied.
      expect(later.filter((id) => applied.has(id))).toEqual([]);
      if (outcome.finished) break;
    }
    for (let attempt = 0; attempt < 3 && !outcome.finished; attempt++)
      outcome = await runChild(workload.configPath, emulator.url, null);
    expect(outcome.finished).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(4);

    // Nothing lost: every record done, its output committed once (a JSONL id committed twice fails the read).
    expect([...(await doneRecords(root))].sort()).toEqual([...ids].sort());
    const outputs = readOutputs(join(root, 'out'), sink);
    expect([...outputs.keys()].sort()).toEqual([...ids].sort());
    // The kills hit requests in flight: their abandoned answers were billed and the records sent again.
    const ledger = emulator.ledger.entries();
    expect(ledger.length).toBeGreaterThan(ids.length);
    // Chain context survived every crash.
    for (const chain of workload.chains) {
      for (let index = 1; index < chain.length; index++) {
        const previous = outputs.get(chain[index - 1] as string);
        const prompts = ledger.filter((e) => catalogRecordOf(e) === chain[index]).map((e) => e.promptText);
        expect(prompts.length).toBeGreaterThan(0);
        for (const prompt of prompts) expect(prompt).toContain(previous?.output.carry_over);
      }
    }
  }, 240_000);
});
