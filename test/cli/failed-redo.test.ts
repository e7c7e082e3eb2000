import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// `run --force` whose redo ends in a dead letter: the earlier output stays on disk (wavebatch never
// deletes an output behind the user's back), yet the record stays dead-lettered: a later sync must
// not count it done again from that file and leave its failure unseen.
describe('wavebatch run --force whose redo is dead-lettered (files sink)', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 41 },
    workload: { books: 1, pages: 2, execution: { max_retries: 0, poll_interval: 50 } },
  });

  it('keeps the old output file and the dead letter, through a full sync', async () => {
    expect((await workload.cli(['run'])).code).toBe(0);
    const id = workload.chains[0]?.[0] ?? '';
    const outputPath = join(workload.root, 'out', `${id}.json`);
    const earlier = readFileSync(outputPath, 'utf8');

    workload.emulator.setFaults({ rates: { safety: 1 } });
    const redo = await workload.cli(['run', '--only', id, '--force']);
    expect(redo.code).toBe(3);
    workload.emulator.setFaults({});
    expect(readFileSync(outputPath, 'utf8')).toBe(earlier);

    // The dataset's folders move: the next start reads the source again and looks at every output.
    const later = new Date(Date.now() + 60_000);
    for (const folder of ['dataset', 'dataset/ST', 'dataset/ST/school1', 'dataset/ST/school1/1900']) {
      if (existsSync(join(workload.root, folder))) utimesSync(join(workload.root, folder), later, later);
    }
    const billedBefore = workload.emulator.ledger.entries().length;
    const again = await workload.cli(['run']);
    expect(again.stderr).toContain('synced 2 records (0 new); 0 already done on disk');
    expect(again.code).toBe(3);
    expect(again.stdout).toContain('records: 1 done, 1 dead-lettered, 0 pending (2 total)');
    expect(workload.emulator.ledger.entries()).toHaveLength(billedBefore);
    const dead = await workload.cli(['failures', '--dead', '--export', 'jsonl']);
    expect(JSON.parse(dead.stdout)).toMatchObject({ recordId: id, cause: 'safety', final: true });
    expect(readFileSync(outputPath, 'utf8')).toBe(earlier);
  });
});
