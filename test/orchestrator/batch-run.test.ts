import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../fixtures/session.js';

interface OutputFile {
  id: string;
  output: { carry_over: string; courses: string[] };
  meta: { prompt: { name: string; version: string; hash: string }; job?: string; attempt: number };
}

function readOutput(root: string, id: string): OutputFile {
  return JSON.parse(readFileSync(join(root, 'out', `${id}.json`), 'utf8')) as OutputFile;
}

describe('batch orchestrator on the emulator', () => {
  let emulator: RunningEmulator;
  let root = '';

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: { min: 30_000, max: 120_000 }, seed: 1 });
  });

  afterEach(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('runs chains in order, feeding each page its predecessor output, across books in shared jobs', async () => {
    const workload = writeCatalogWorkload({ books: 4, pages: 3 });
    root = workload.root;
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
        const previous = readOutput(root, chain[index - 1] as string);
        const entry = ledger.find((e) => e.key === chain[index]);
        expect(entry?.promptText).toContain(previous.output.carry_over);
        expect(readOutput(root, chain[index] as string).meta.prompt).toMatchObject({
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

  it('re-running over a finished tree does nothing; a deleted output is redone alone', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 2 });
    root = workload.root;
    let { session } = await openEmulatedSession(workload.configPath, emulator);
    await session.runner.run();
    await session.close();
    const billed = emulator.ledger.entries().length;

    ({ session } = await openEmulatedSession(workload.configPath, emulator));
    const again = await session.runner.run();
    await session.close();
    expect(again.jobsSubmitted).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(billed);

    const last = workload.chains[0]?.[1] as string;
    rmSync(join(root, 'out', `${last}.json`));
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
