import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/doctor/doctor.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { systemClock } from '../../../src/clock.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

describe('wavebatch doctor beside a synchronous run', () => {
  const sandbox = emulatorSandbox();

  it('does not report the live requests of a running flex run as stranded', async () => {
    // Flex answers take 1-2 emulated minutes at 60x: one to two real seconds, time to look.
    const emulator = await sandbox.startEmulator({
      timeScale: 60,
      tiers: { flex: { latencyMs: { min: 60_000, max: 120_000 } } },
    });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 1,
      execution: { mode: 'flex', poll_interval: '1s' },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    const run = session.runner.run();
    const reader = new SqliteStore({ path: join(root, 'state', 'state.db') });
    try {
      for (let wait = 0; (await reader.counts()).in_flight < 3; wait++) {
        if (wait > 200) throw new Error('the requests were never sent');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const findings = await runDoctor({
        store: reader,
        api: null,
        workload: 'test',
        clock: systemClock,
        fix: false,
      });
      expect(findings.find((finding) => finding.check === 'in-flight')).toMatchObject({ ok: true });
    } finally {
      await reader.close();
      await run;
      await session.close();
    }
  }, 30_000);
});
