import { readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { OUTPUT_SINKS, writeCatalogWorkload, type OutputSinkName } from '../fixtures/catalog-workload.js';
import { readOutputs, type OutputFile } from '../fixtures/output-reader.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

function readOutput(root: string, sink: OutputSinkName, id: string): OutputFile {
  const output = readOutputs(join(root, 'out'), sink).get(id);
  if (!output) throw new Error(`no output for ${id}`);
  return output;
}

/**
 * Loses the output of a record completed last, behind wavebatch's back: for files, `id`'s file
 * deleted; for JSONL, the last line of the last shard cut off (a job's results are applied in the
 * order Google returns them, not the order they were billed). Returns the id whose output is gone.
 */
function loseLastOutput(root: string, sink: OutputSinkName, id: string): string {
  if (sink === 'files') {
    rmSync(join(root, 'out', `${id}.json`));
    return id;
  }
  const manifest = JSON.parse(readFileSync(join(root, 'out', 'manifest.json'), 'utf8')) as {
    shards: Array<{ file: string }>;
  };
  const path = join(root, 'out', manifest.shards.at(-1)?.file ?? '');
  const text = readFileSync(path, 'utf8');
  const start = text.lastIndexOf('\n', text.length - 2) + 1;
  const lost = (JSON.parse(text.slice(start)) as { id: string }).id;
  truncateSync(path, Buffer.byteLength(text.slice(0, start)));
  return lost;
}

describe.each(OUTPUT_SINKS)('batch orchestrator on the emulator, %s output sink', (sink) => {
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: { min: 30_000, max: 120_000 }, seed: 1 });
  });

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator.close();
  });

  it('runs chains in order, feeding each page its predecessor output, across books in shared jobs', async () => {
    const workload = writeCatalogWorkload({ books: 4, pages: 3, sink });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run();
    await session.close();

    expect(summary.counts).toMatchObject({ done: 12, dead: 0, total: 12 });
    const ledger = emulator.ledger.entries();
    expect(ledger).toHaveLength(12);
    // Every record billed exactly once.
    expect(new Set(ledger.map((entry) => entry.key)).size).toBe(12);

    for (const chain of workload.chains) {
      for (let index = 1; index < chain.length; index++) {
        const previous = readOutput(root, sink, chain[index - 1] as string);
        const entry = ledger.find((e) => e.key === chain[index]);
        expect(entry?.promptText).toContain(previous.output.carry_over);
        expect(readOutput(root, sink, chain[index] as string).meta.prompt).toMatchObject({
          name: 'page',
          version: 'v1',
        });
      }
      // Strict order: a page was billed in a later job than its predecessor.
      const batches = chain.map((id) => ledger.find((e) => e.key === id)?.batchName);
      expect(new Set(batches).size).toBe(chain.length);
    }
    // Width: first pages of different books travel together.
    const firstPageBatches = workload.chains.map(
      (chain) => ledger.find((e) => e.key === chain[0])?.batchName,
    );
    expect(new Set(firstPageBatches).size).toBeLessThan(firstPageBatches.length);
  });

  it('re-running over a finished tree does nothing; a lost output is redone alone', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 2, sink });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    let { session } = await openEmulatedSession(workload.configPath, emulator);
    await session.runner.run();
    await session.close();
    const billed = emulator.ledger.entries().length;

    ({ session } = await openEmulatedSession(workload.configPath, emulator));
    const again = await session.runner.run();
    await session.close();
    expect(again.jobsSubmitted).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(billed);

    // A record completed last: the last line of the last shard, or the last billed record's file.
    const last = loseLastOutput(root, sink, emulator.ledger.entries().at(-1)?.key as string);
    ({ session } = await openEmulatedSession(workload.configPath, emulator));
    const redo = await session.runner.run();
    await session.close();
    expect(redo.counts.done).toBe(4);
    expect(
      emulator.ledger
        .entries()
        .map((e) => e.key)
        .slice(billed),
    ).toEqual([last]);
  });
});
