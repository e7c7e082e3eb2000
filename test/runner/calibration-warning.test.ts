import { afterEach, describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../src/runner/events.js';
import { openWorkloadSession } from '../../src/runner/workload-session.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatorClock } from '../fixtures/emulator-clock.js';
import { startRecordingProxy, type RecordingProxy } from '../fixtures/recording-proxy.js';
import { emulatedConfig, FAST_RETRY, runOnEmulatorClock } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

const TIME_SCALE = 3600;

/** The sizes the cuts of a text report (`[truncated: N bytes in all, …]`), one per cut. */
function reportedSizes(text: string): number[] {
  return [...text.matchAll(/\[truncated: (\d+) bytes in all/g)].map((match) => Number(match[1]));
}

/** The calibration's warnings among a run's events. */
function calibrationWarnings(events: readonly RunnerEvent[]): string[] {
  return events.flatMap((event) =>
    event.type === 'warning' && event.message.startsWith('Token calibration skipped') ? [event.message] : [],
  );
}

// The run's token calibration builds a few ready requests and asks countTokens about them at start-up,
// and warns when it cannot: the error's message went into the warning whole, however large.
describe('a token calibration that fails with a huge message', () => {
  const sandbox = emulatorSandbox();
  let proxy: RecordingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  // The API error's message is the server's text, cut to 4 kB, then the advice: the warning cut that
  // whole message to 4 kB again, in the server's text, and the advice was lost.
  it("warns with the API's message cut once to 4 kB, saying how large it was, the advice after it, and the run goes on", async () => {
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      turnaroundMs: 20_000,
      faults: { http: [{ kind: 'status_400', match: 'count', count: 1 }] },
    });
    const huge = 'The request was: '.padEnd(2_000_000, 'x');
    proxy = await startRecordingProxy(emulator.url, {
      rewrite: (call, body) => {
        const error = (body as { error?: { message?: string } }).error;
        return call.path.includes(':countTokens') && error?.message !== undefined
          ? { ...(body as object), error: { ...error, message: huge } }
          : undefined;
      },
    });
    const workload = writeCatalogWorkload({ books: 1, pages: 2, execution: { poll_interval: '30s' } });
    sandbox.removeAfterTest(workload.root);

    const { summary, events } = await runOnEmulatorClock(
      workload.configPath,
      { ...emulator, url: proxy.url },
      { timeScale: TIME_SCALE, signal: AbortSignal.timeout(20_000) },
    );

    expect(emulator.httpFaultsFired()).toEqual([1]);
    expect(summary.counts).toMatchObject({ done: 2 });
    const [warning, ...more] = calibrationWarnings(events);
    expect(more).toEqual([]);
    expect(warning!.length).toBeLessThan(5000);
    expect(warning).toContain('The request was: xxx');
    expect(reportedSizes(warning!)).toEqual([2_000_000]);
    expect(warning).toMatch(/fix the input or the model name before retrying\.$/);
  }, 30_000);

  // A TypeScript config's extractContext hook can throw with the predecessor's whole output in its
  // message; the calibration builds a ready chained record's request, and so calls the hook first.
  // The hook fails that record only: the first run dead-letters the second page; requeued, it is
  // ready when the second run starts, so that run's calibration meets the hook's error. That failure
  // is the record's: the calibration passes over it, and the record's dead letter alone reports it.
  it("leaves an extractContext hook's error to the dead letter, its message cut once to 4 kB", async () => {
    const emulator = await sandbox.startEmulator({ timeScale: TIME_SCALE, turnaroundMs: 20_000 });
    const workload = writeCatalogWorkload({ books: 1, pages: 2, execution: { poll_interval: '30s' } });
    sandbox.removeAfterTest(workload.root);
    const echoed = 'y'.repeat(1_000_000);
    const config = {
      ...(await emulatedConfig(workload.configPath, emulator)),
      hooks: {
        extractContext: (output: unknown) => {
          throw new Error(`No context in ${JSON.stringify(output)}: ${echoed}`);
        },
      },
    };
    const runs: RunnerEvent[][] = [];
    for (let run = 0; run < 2; run++) {
      const events: RunnerEvent[] = [];
      const session = await openWorkloadSession(config, {
        retryPolicy: FAST_RETRY,
        clock: emulatorClock(emulator, TIME_SCALE),
        onEvent: (event) => events.push(event),
      });
      try {
        const summary = await session.runner.run(AbortSignal.timeout(20_000));
        expect(summary.counts).toMatchObject({ done: 1, dead: 1 });
        if (run === 0) expect(await session.store.requeueDead()).toBe(1);
      } finally {
        await session.close();
      }
      runs.push(events);
    }

    expect(emulator.ledger.entries()).toHaveLength(1);
    expect(calibrationWarnings(runs.flat())).toEqual([]);
    const [warning, ...more] = runs[1]!.flatMap((event) =>
      event.type === 'record-failed' && event.outcome === 'dead' ? [event.message] : [],
    );
    expect(more).toEqual([]);
    expect(warning!.length).toBeLessThan(5000);
    expect(warning).toContain('No context in {');
    // Cut once, where the hook's message is quoted: cut again, it would say it was 4 kB in all.
    const sizes = reportedSizes(warning!);
    expect(sizes).toHaveLength(1);
    expect(sizes[0]).toBeGreaterThan(1_000_000);
  }, 30_000);
});
