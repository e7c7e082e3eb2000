import { describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../../src/gemini/index.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { expectRpmHeld, quotaCounting } from '../../fixtures/rpm-hold.js';
import { openEmulatedSession } from '../../fixtures/session.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 4;

describe('a synchronous run against the RPM limit', () => {
  const sandbox = emulatorSandbox();

  it('holds at least 90% of the configured RPM after warm-up with at most 1% 429s', async () => {
    // Emulated time 4 times faster than real: five and a half emulated minutes in 83 s. At 30 RPM
    // that is 2 requests a real second (client and emulator in this one process). Faster, the test
    // measured the machine instead of the limiter: at 30 times the 2-core machine gave 28-29 a minute
    // alone and 25-26 beside another test file; at 15 times 29 alone and 24-26 at a load average of 8,
    // at 6 times 25-27 in one run of three. Those runs each had 1-3 429s: a request reaches the
    // emulator a moment after its permit, and the limiter allows 1 emulated second for that
    // (arrivalSlackMs), 67 real ms at 15 times, which a busy machine's pauses exceed; after a 429 the
    // limiter, rightly, pauses and lowers its share. At 4 times that second is 250 real ms.
    const rpm = 30;
    const records = Math.round(5.5 * rpm);
    const emulator = await sandbox.startEmulator({ timeScale: TIME_SCALE, quotas: { rpm } });
    const workload = writeCatalogWorkload({
      books: records,
      pages: 1,
      execution: { mode: 'realtime', sync_concurrency: 16, poll_interval: '30s' },
      extraYaml: ['limits:', '  models:', '    gemini-2.5-flash:', `      standard: { rpm: ${rpm} }`].join(
        '\n',
      ),
    });
    sandbox.removeAfterTest(workload.root);
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: emulator.url });
    const counts = { sent: 0, refused: 0 };
    const counting = quotaCounting(client, counts);
    const { session } = await openEmulatedSession(workload.configPath, emulator, {
      clock: emulatorClock(emulator, TIME_SCALE),
      gemini: counting,
    });
    const start = emulator.now();
    const summary = await session.runner.run();
    await session.close();

    expect(summary.counts).toMatchObject({ done: records, dead: 0 });
    expectRpmHeld(emulator, start, rpm, records, counts);
  }, 240_000);
});
