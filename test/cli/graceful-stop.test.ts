import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { billsPerRecord } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli, startCli } from '../fixtures/cli.js';
import { emulatorSandbox } from '../emulator/harness.js';

const env = { GEMINI_API_KEY: 'graceful-stop-test-key' };

// The first Ctrl-C abandoned the Flex requests in the air: Google finished and billed them, and
// the next run sent (and paid for) them again.
describe('Ctrl-C on `wavebatch run` with Flex requests in the air', () => {
  let emulator: RunningEmulator;
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator.close();
  });

  /** Four chains of three pages on Flex, whose answers take `latencyMs` real ms; `arrived` sees each call come in. */
  async function flexWorkload(arrived: (count: number) => void, latencyMs = 1_500): Promise<string> {
    let count = 0;
    emulator = await startEmulator({
      seed: 5,
      tiers: { flex: { latencyMs } },
      responder: () => {
        count += 1;
        arrived(count);
        return undefined;
      },
    });
    const workload = writeCatalogWorkload({
      books: 4,
      pages: 3,
      execution: { mode: 'flex', sync_concurrency: 4, poll_interval: '1s' },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    sandbox.removeAfterTest(workload.root);
    return workload.configPath;
  }

  it('waits for them, says so, applies their answers; the next run bills each record once', async () => {
    let interrupt = () => {};
    const configPath = await flexWorkload((count) => count === 4 && interrupt());
    const running = startCli(['run', '-c', configPath], { env });
    interrupt = () => running.child.kill('SIGINT');
    const stopped = await running.result;

    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(
      /SIGINT: stopping after the current step.*waiting up to 60 s for 4 requests in flight/,
    );
    expect(stopped.stderr).toContain('Ctrl-C again to stop at once');
    expect(stopped.stdout).toContain('records: 4 done');
    expect(emulator.ledger.entries()).toHaveLength(4);

    const next = await runCli(['run', '-c', configPath], { env });
    expect(next.code, next.stderr).toBe(0);
    const bills = billsPerRecord(emulator.ledger.entries());
    expect(bills.size).toBe(12);
    expect([...bills.values()].every((count) => count === 1)).toBe(true);
  }, 90_000);

  it('a second Ctrl-C stops at once: at most one extra bill per request that was in the air', async () => {
    let allSent = () => {};
    const sent = new Promise<void>((resolve) => (allSent = resolve));
    // Answers take 3 s, so the second Ctrl-C comes while they are in the air on a loaded machine too.
    const configPath = await flexWorkload((count) => count === 4 && allSent(), 3_000);
    const running = startCli(['run', '-c', configPath], { env });
    await sent;
    running.child.kill('SIGINT');
    // The stop's own line, not the progress line ("4 in flight"): a second SIGINT sent before the first
    // was handled merged with it (signals pending together are one), and the run waited out its grace.
    await running.stderrContains('SIGINT: stopping');
    running.child.kill('SIGINT');
    const stopped = await running.result;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('SIGINT again: stopping now');

    const next = await runCli(['run', '-c', configPath], { env });
    expect(next.code, next.stderr).toBe(0);
    // Google (the emulator) finished and billed the four abandoned calls; the next run sent them again.
    const bills = billsPerRecord(emulator.ledger.entries());
    expect(bills.size).toBe(12);
    expect([...bills.values()].reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(12 + 4);
  }, 90_000);
});
