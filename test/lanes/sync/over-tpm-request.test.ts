import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { emulatorClock, patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_000;
/** The emulator's input tokens per minute: less than any one of the workload's requests. */
const TPM = 20;

// A request with more input tokens than the model's per-minute limit is refused with a 429 at every
// try, the wait the server asks for never helps, and the 429s billed nothing, so no attempt was
// counted: the record went back to the queue and was sent again, for ever, and the run never ended.
describe('a synchronous request larger than the tokens-per-minute limit', () => {
  const sandbox = emulatorSandbox();

  it('is dead-lettered with the limit named, and the run ends', async () => {
    const emulator = await sandbox.startEmulator({ timeScale: TIME_SCALE, quotas: { tpm: TPM } });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 1,
      execution: { mode: 'realtime', max_retries: 2, poll_interval: '30s' },
    });
    const root = workload.root;
    sandbox.removeAfterTest(root);
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, TIME_SCALE),
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
    });
    const summary = await session.runner.run(AbortSignal.timeout(20_000));
    await session.close();

    expect(summary.finished, 'the run ended by itself').toBe(true);
    expect(summary.counts).toMatchObject({ done: 0, dead: 2 });
    expect(emulator.ledger.entries()).toEqual([]);
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const failures = await store.listFailures();
    await store.close();
    expect(failures).toHaveLength(2);
    for (const failure of failures) {
      expect(failure).toMatchObject({ cause: 'api_error', final: true });
      expect(failure.message).toMatch(new RegExp(`more than the per-minute limit of ${TPM}`));
      // Led by the API error's code, as every quoted error is: the bare message named none.
      expect(failure.message).toMatch(/^\[[A-Z_]+\] /);
    }
  }, 30_000);
});
