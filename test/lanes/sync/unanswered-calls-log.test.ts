import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import type { StoredEvent } from '../../../src/store/event-log.js';
import { writeCatalogWorkload } from '../../fixtures/catalog-workload.js';
import { runCli } from '../../fixtures/cli.js';
import { patientRequestTimeouts } from '../../fixtures/emulator-clock.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const ENV = { GEMINI_API_KEY: 'unanswered-calls-log-test-key' };

// A call given up at its request timeout, or whose answer was cut off half-way, is served and billed
// by Google (the emulator's ledger bills it) though no answer came back. The inference log had no
// event for it: the calls retried within an attempt left no trace, and `status` and the report
// counted fewer requests than the ledger did.
describe('synchronous calls with no answer in the inference log', () => {
  const sandbox = emulatorSandbox();

  it('logs every call whose answer was cut off as an attempt of its own, its cost unknown', async () => {
    const timeScale = 3_000;
    const emulator = await sandbox.startEmulator({
      timeScale,
      faults: { http: [{ kind: 'reset_mid_body', match: 'generate', rate: 0.5 }] },
      seed: 7,
    });
    const workload = writeCatalogWorkload({
      books: 2,
      pages: 3,
      execution: { mode: 'flex', max_retries: 3, poll_interval: '30s' },
    });
    sandbox.removeAfterTest(workload.root);
    await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale,
      syncRequestTimeoutMs: patientRequestTimeouts(timeScale),
      signal: AbortSignal.timeout(30_000),
    });

    const attempts = await attemptsLogged(workload.configPath);
    const cut = attempts.filter((event) => event.cause === 'answer_cut');
    expect(cut.length, 'calls cut off (rate 0.5)').toBeGreaterThan(0);
    expectOnRecord(cut, emulator);
    expect(cut[0]?.message).toMatch(/cut off/);
    expect(requestsOf(attempts), 'requests in the log, as in the ledger').toBe(
      emulator.ledger.entries().length,
    );
    await expectCostSaidToBeAFloor(workload.configPath, cut.length, emulator.ledger.entries().length);
  }, 60_000);

  it('logs every call given up at its request timeout as an attempt of its own, its cost unknown', async () => {
    // 20,000 emulated ms per real ms: Flex answers after 30 minutes, past its 20-minute timeout.
    const timeScale = 20_000;
    const emulator = await sandbox.startEmulator({ timeScale, tiers: { flex: { latencyMs: 30 * 60_000 } } });
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { mode: 'flex', max_retries: 1, poll_interval: '1m', give_up_after: '7d' },
    });
    sandbox.removeAfterTest(workload.root);
    await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale,
      signal: AbortSignal.timeout(60_000),
    });
    // The emulator finishes (and bills) each abandoned call 30 emulated minutes after it was sent.
    await new Promise((resolve) => setTimeout(resolve, (30 * 60_000) / timeScale + 200));

    const attempts = await attemptsLogged(workload.configPath);
    const timedOut = attempts.filter((event) => event.cause === 'timeout');
    expectOnRecord(timedOut, emulator);
    expect(timedOut[0]?.message).toMatch(/No answer .* within 1200 s/);
    expect(requestsOf(attempts), 'requests in the log, as in the ledger').toBe(
      emulator.ledger.entries().length,
    );
    await expectCostSaidToBeAFloor(workload.configPath, timedOut.length, emulator.ledger.entries().length);
  }, 90_000);
});

/** `status` (its JSON and its text) and the run's `report` count the calls billed at an unknown price. */
async function expectCostSaidToBeAFloor(
  configPath: string,
  unknown: number,
  ledgerCalls: number,
): Promise<void> {
  const json = await runCli(['status', '--json', '-c', configPath], { env: ENV });
  expect(json.code, json.stderr).toBe(0);
  const status = JSON.parse(json.stdout) as { billed: { requests: number; unknownCostRequests: number } };
  expect(status.billed).toMatchObject({ requests: ledgerCalls, unknownCostRequests: unknown });
  const note = `${unknown} call${unknown === 1 ? '' : 's'} with no answer`;
  const text = await runCli(['status', '-c', configPath], { env: ENV });
  expect(text.stdout).toContain(note);
  expect(text.stdout).toMatch(/the cost is a floor/);
  const report = await runCli(['report', '-c', configPath], { env: ENV });
  expect(report.code, report.stderr).toBe(0);
  expect(report.stdout).toContain(note);
}

/** The attempt events, as `wavebatch log --kind attempt --json` prints them. */
async function attemptsLogged(configPath: string): Promise<StoredEvent[]> {
  const result = await runCli(['log', '--kind', 'attempt', '--json', '-c', configPath], { env: ENV });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as StoredEvent);
}

/** One event per call the ledger billed with no answer: one request each, tokens and cost unknown, timed. */
function expectOnRecord(events: StoredEvent[], emulator: RunningEmulator): void {
  expect(events.length).toBeGreaterThan(0);
  expect(events.length).toBeLessThanOrEqual(emulator.ledger.entries().length);
  for (const event of events) {
    expect(event).toMatchObject({
      type: 'retry',
      lane: 'flex',
      requests: 1,
      costUsd: null,
      finishReason: null,
    });
    expect(event.message).toMatch(/tokens and cost are unknown/);
    expect(event.promptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(event.startedAt).not.toBeNull();
    expect(event.finishedAt).not.toBeNull();
  }
}

function requestsOf(events: StoredEvent[]): number {
  return events.reduce((sum, event) => sum + (event.requests ?? 1), 0);
}
