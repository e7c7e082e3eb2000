import { describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';

// clear-failures deleted every failure, the dead letters' too: the record stayed dead (status, the
// run's summary, exit code 3) while `failures --dead` said "no dead letters", its reason gone.
describe('clear-failures on a workload with dead letters', () => {
  const workload = useEmulatedWorkload({
    emulator: { turnaroundMs: 20_000, seed: 12 },
    workload: { books: 2, pages: 1, execution: { max_retries: 1, poll_interval: 20 } },
  });

  it('keeps the failure that dead-lettered each record still dead, so failures --dead names it', async () => {
    const doomed = workload.chains[1]?.[0] as string;
    workload.emulator.setFaults({ byKey: { [doomed]: ['safety', 'safety'] } });
    expect((await workload.cli(['run'])).code).toBe(3);

    const cleared = await workload.cli(['clear-failures', '--yes', '--json']);
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual({ cleared: 1 });
    const dead = await workload.cli(['failures', '--dead']);
    expect(dead.code).toBe(0);
    expect(dead.stdout).toMatch(new RegExp(`${doomed}\\s+attempt 1\\s+\\[safety\\] DEAD`));
    const rerun = await workload.cli(['run']);
    expect(rerun.code).toBe(3);
    expect(rerun.stdout).toContain('1 dead-lettered');

    // Requeued and done, it is no dead letter any more: the next clear deletes its failure too.
    workload.emulator.setFaults({});
    expect((await workload.cli(['requeue'])).code).toBe(0);
    expect((await workload.cli(['run'])).code).toBe(0);
    const all = await workload.cli(['clear-failures', '--yes', '--json']);
    expect(JSON.parse(all.stdout)).toEqual({ cleared: 1 });
    expect((await workload.cli(['failures'])).stdout).toBe('no failures recorded\n');
  });
});
