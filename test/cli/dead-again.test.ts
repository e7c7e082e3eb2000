import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// A record dead-lettered, requeued and dead again has two final failures. `failures --dead` listed
// both, as if it were dead twice over; the history (`failures`) keeps both. The CSV wrote `final`
// as 1 and nothing where the JSON says true and false.
describe('failures of a record requeued and dead-lettered again', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 1_000, seed: 17 },
    workload: { books: 1, pages: 1, execution: { max_retries: 1, poll_interval: 20 } },
  });

  it('--dead lists only the failure that dead-lettered it last; the history keeps all four', async () => {
    const doomed = workload.chains[0]?.[0] as string;
    workload.emulator.setFaults({ byKey: { [doomed]: ['safety', 'safety', 'safety', 'safety'] } });
    expect((await workload.cli(['run'])).code).toBe(3);
    expect((await workload.cli(['requeue'])).code).toBe(0);
    expect((await workload.cli(['run'])).code).toBe(3);

    const history = JSON.parse((await workload.cli(['failures', '--json'])).stdout) as Array<{
      id: number;
      final: boolean;
    }>;
    expect(history.map((f) => f.final)).toEqual([false, true, false, true]);

    const dead = JSON.parse((await workload.cli(['failures', '--dead', '--json'])).stdout) as Array<{
      id: number;
      recordId: string;
    }>;
    expect(dead).toEqual([expect.objectContaining({ id: history[3]?.id, recordId: doomed })]);
    const listed = await workload.cli(['failures', '--dead']);
    expect(listed.stdout.trim().split('\n')).toHaveLength(1);

    const csvPath = join(workload.root, 'all.csv');
    expect((await workload.cli(['failures', '--export', 'csv', '-o', csvPath])).code).toBe(0);
    const rows = parse(readFileSync(csvPath, 'utf8'), { columns: true }) as Array<{ final: string }>;
    expect(rows.map((row) => row.final)).toEqual(['false', 'true', 'false', 'true']);
  });
});
