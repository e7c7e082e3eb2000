import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { useJsonlSource, type CatalogRow } from '../fixtures/catalog-workload.js';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

const row = (id: string, book: string): CatalogRow => ({ id, book, page: 1, school: book.toUpperCase() });

// Records taken out of the source (or left out by a narrower filter) after a first run were still
// sent and billed by the next one: the store kept them ready. The emulator's ledger says what was paid.
describe('records removed from the source between runs', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 6 },
    workload: { books: 1, pages: 1, execution: { poll_interval: '1s' } },
  });

  it('are never sent: the next run drops them, says so, and bills only what the source still has', async () => {
    const { emulator, configPath } = workload;
    useJsonlSource(configPath, [row('a1', 'a'), row('b1', 'b'), row('c1', 'c')]);
    const first = await workload.cli(['run', '--limit', '1']);
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

    const second = await workload.cli(['run']);
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

// A record a synchronous request of a crashed process still claimed is released at the next start;
// released after the sync, it was ready again but no longer droppable, and that run sent it.
describe('a record claimed by a crashed process and removed from the source', () => {
  const workload = useEmulatedWorkload({
    workload: { books: 1, pages: 1, execution: { mode: 'flex', poll_interval: '1s' } },
  });

  it('is dropped, not sent', async () => {
    const { emulator, configPath } = workload;
    useJsonlSource(configPath, [row('a1', 'a'), row('b1', 'b')]);
    // A first run sends one record; then a process claims the other and dies before sending it.
    expect((await workload.cli(['run', '--limit', '1'])).code).toBe(0);
    expect(emulator.ledger.entries()).toHaveLength(1);
    const store = new SqliteStore({ path: workload.statePath });
    const records = await store.listRecords({ limit: 10 });
    const sent = records.find((record) => record.status === 'done')?.id ?? 'none done';
    const unsent = sent === 'a1' ? 'b1' : 'a1';
    const claimed = await store.claimReady({
      lane: 'flex',
      limit: 1,
      claimId: 'crashed',
      recordIds: [unsent],
    });
    expect(claimed.map((record) => record.id)).toEqual([unsent]);
    await store.close();
    useJsonlSource(configPath, [row(sent, sent.slice(0, 1))]);

    const run = await workload.cli(['run']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('1 unsent no longer in the source dropped');
    expect(run.stdout).toContain('records: 1 done');
    // Nothing more billed: the one request of the first run.
    expect(emulator.ledger.entries()).toHaveLength(1);
  });
});
