import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogOnEmulator } from '../fixtures/catalog-on-emulator.js';
import { refuseWrites } from '../fixtures/refused-write.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

const TIME_SCALE = 3_600;

/** The runner events that the inference log keeps as job transitions (see RunTelemetry.jobEvent). */
const JOB_TRANSITIONS = new Set([
  'job-submitted',
  'job-adopted',
  'job-state',
  'job-processed',
  'job-orphan',
  'job-stalled',
]);

// A failed inference-log write was warned about once, and every job transition lost after it was
// lost silently: the user could not know the log missed them.
describe('job transitions the inference log cannot take', () => {
  const sandbox = emulatorSandbox();

  it('are warned about once as the first is lost, and counted when the run ends; the run itself is whole', async () => {
    const { emulator, workload } = await catalogOnEmulator(
      sandbox,
      { books: 2, pages: 1, execution: { mode: 'batch', poll_interval: '30s' } },
      { seed: 5 },
    );
    // Every job transition refused, and nothing else.
    await refuseWrites(
      join(workload.root, 'state', 'state.db'),
      'refuse_job_events',
      "BEFORE INSERT ON events WHEN NEW.kind = 'job'",
    );

    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
    });

    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 2, total: 2 });
    const transitions = events.filter((event) => JOB_TRANSITIONS.has(event.type)).length;
    expect(transitions).toBeGreaterThan(1);
    const warnings = events.flatMap((event) => (event.type === 'warning' ? [event.message] : []));
    const first = warnings.filter((message) => message.includes('the inference log could not be written'));
    expect(first).toHaveLength(1);
    expect(first[0]).toContain('the disk refused the write');
    expect(warnings).toContainEqual(
      expect.stringContaining(`${transitions} job transitions were not written to the inference log`),
    );
  }, 60_000);
});
