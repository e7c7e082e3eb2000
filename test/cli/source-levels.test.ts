import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

const LEVELS = 'levels: [state, school, year]';

// The catalog's pages are three folders deep (state/school/year/page_N.txt). A `levels` one name
// short or long made every leaf folder hold no page: the run synced nothing, "finished" at once
// with exit 0, and dropped the records an earlier run had synced but not sent yet.
describe('a directory source whose levels do not match the dataset', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 8 },
    workload: { books: 2, pages: 2, execution: { poll_interval: '1s' } },
  });

  it('stops the sync with SOURCE_LEVELS_MISMATCH (exit 2) naming the depth of the pages, and sends nothing', async () => {
    const { emulator } = workload;
    // Synced under the right levels, then edited: the two chains' first pages are ready, not sent.
    expect((await workload.cli(['run', '--dry-run'])).code).toBe(0);

    workload.editConfig(LEVELS, 'levels: [state, school]');
    const short = await workload.cli(['run']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(
      /error \[SOURCE_LEVELS_MISMATCH\]: source\.levels names 2 folder levels \(state, school\), but the dataset \S+dataset has its pages 3 folders deep \(ST\/school1\/1900\/page_1\.txt\), none 2 folders deep, so it holds no record: give source\.levels one name per folder above the pages \(3 here\)/,
    );

    workload.editConfig('levels: [state, school]', 'levels: [state, school, year, part]');
    const long = await workload.cli(['run', '--dry-run']);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('source.levels names 4 folder levels (state, school, year, part)');
    expect(emulator.ledger.entries()).toHaveLength(0);

    // The records synced before are still there: the right levels run them all.
    workload.editConfig('levels: [state, school, year, part]', LEVELS);
    const right = await workload.cli(['run']);
    expect(right.code).toBe(0);
    expect(right.stdout).toContain('records: 4 done, 0 dead-lettered, 0 pending (4 total)');
    expect(emulator.ledger.entries()).toHaveLength(4);
  });

  it('leaves a selection of no leaf folder alone: the pages are at the depth levels names', async () => {
    workload.editConfig(LEVELS, `${LEVELS}\n  filters: { state: [XX] }`);
    try {
      const none = await workload.cli(['run', '--dry-run']);
      expect(none.stderr).not.toContain('SOURCE_LEVELS_MISMATCH');
      expect(none.code).toBe(0);
    } finally {
      workload.editConfig(`${LEVELS}\n  filters: { state: [XX] }`, LEVELS);
    }
  });
});
