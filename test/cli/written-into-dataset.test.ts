import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A directory source's sync reads every visible folder of its dataset. Assembled documents written
// into it (dataset/books/ST/school1/1900.md) came back at the next sync as a page of their own
// (page 1900 of chain books/ST/school1): a record nobody asked for, sent and billed.
describe('folders a run writes, inside a directory source', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 9 },
    workload: { books: 1, pages: 2, execution: { poll_interval: '1s' } },
  });

  it('are refused (CONFIG_INVALID, exit 2) naming the key, before anything is sent', async () => {
    workload.editConfig(
      'outputs: out',
      'outputs:\n  path: out\n  assemble: { format: markdown, path: dataset/books }',
    );
    const assembled = await workload.cli(['run']);
    expect(assembled.code).toBe(2);
    expect(assembled.stderr).toMatch(
      /error \[CONFIG_INVALID\]: \S*wavebatch\.yaml line \d+: outputs\.assemble\.path: "dataset\/books" is inside the dataset folder \S+dataset \(source\.path\): the sync would read what is written there as pages; name a folder outside it/,
    );
    workload.editConfig('path: dataset/books', 'path: books');
    workload.editConfig('data_dir: state', 'data_dir: dataset/state');
    const state = await workload.cli(['config', 'check']);
    expect(state.code).toBe(2);
    expect(state.stderr).toMatch(/line \d+: data_dir: "dataset\/state" is inside the dataset folder/);
    expect(workload.emulator.ledger.entries()).toHaveLength(0);

    // A hidden folder is never read by the sync; beside the dataset, nothing is in the way.
    workload.editConfig('data_dir: dataset/state', 'data_dir: dataset/.state');
    const run = await workload.cli(['run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('records: 2 done, 0 dead-lettered, 0 pending (2 total)');
    expect(workload.emulator.ledger.entries()).toHaveLength(2);
  });
});
