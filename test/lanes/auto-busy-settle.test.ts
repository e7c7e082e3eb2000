import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, runExitCode } from '../../src/cli/exit-codes.js';
import { billsPerRecord } from '../fixtures/catalog-ledger.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedSleepClock, patientRequestTimeouts, speedableRealTime } from '../fixtures/emulator-clock.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { runOnEmulatorClock } from '../fixtures/session.js';
import { storeLockedElsewhere } from '../fixtures/store-lock.js';
import { emulatorSandbox } from '../emulator/harness.js';

const MINUTE = 60_000;
const TIME_SCALE = 2_000;
// Sixty chains of ten pages go by Flex (the critical path), an answer every few real ms; Flex's daily
// quota cannot carry the 600 one-page books as well, which go by batch (the width) meanwhile.
const CHAINS = 60;
const CHAIN_PAGES = 10;
const SINGLES = 600;
const FLEX_RPD = CHAINS * CHAIN_PAGES + 20;

// In mode `auto` one lifecycle settles both lanes' outputs, a group holding both: the Flex answers
// that come in while a batch job's outputs are written (the files sink writes 64 at a time) queue
// behind them, and their flushes settle the job's next outputs with their own, or the job's flush
// theirs. A store another process kept locked (STORE_BUSY) failed the call that settled the group
// alone: the others' outputs in it were dropped, a job marked applied or a request done with their
// records in flight, and the run never finished (it waited for them until stopped).
describe('an auto run whose settle of both lanes’ outputs meets a busy store', () => {
  const sandbox = emulatorSandbox();

  it('tells each flight in the group: the run ends with every record done and written, each billed once', async () => {
    const time = speedableRealTime();
    const emulator = await sandbox.startEmulator({
      timeScale: TIME_SCALE,
      seed: 17,
      realNow: time.now,
      turnaroundMs: { min: 12 * MINUTE, median: 14 * MINUTE, max: 16 * MINUTE },
      tiers: { flex: { latencyMs: { min: MINUTE, max: 5 * MINUTE } } },
    });
    const workload = writeCatalogWorkload({
      books: CHAINS + SINGLES,
      pages: 1,
      pagesPerBook: [...Array<number>(CHAINS).fill(CHAIN_PAGES), ...Array<number>(SINGLES).fill(1)],
      sink: 'files',
      execution: { mode: 'auto', max_requests_per_job: 1000, poll_interval: '5m' },
      extraYaml: ['limits:', '  models:', '    gemini-2.5-flash:', `      flex: { rpd: ${FLEX_RPD} }`].join(
        '\n',
      ),
    });
    sandbox.removeAfterTest(workload.root);
    const path = join(workload.root, 'state', 'state.db');
    const other = await storeLockedElsewhere(path);
    const warnings: string[] = [];
    const busy = `Another process kept the state store ${path} locked for writing`;
    let locked = false;
    const group = new Set<string>();

    const { summary, events } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      // Emulated time stands still while the lock is held, the runner's sleeps included (see
      // test/lanes/batch/store-failure.test.ts): the lease neither runs out nor renews into the lock.
      clock: emulatedSleepClock(emulator, TIME_SCALE),
      syncRequestTimeoutMs: patientRequestTimeouts(TIME_SCALE),
      signal: AbortSignal.timeout(60_000),
      onEvent: (event) => {
        // A group of both lanes is done (its events are told in one go): a job's outputs are being
        // queued between Flex answers, whose flushes settle them. The next group meets the lock.
        if (event.type === 'record-done' && event.lane && !locked) {
          if (group.size === 0) queueMicrotask(() => group.clear());
          group.add(event.lane);
          if (group.size < 2) return;
          locked = true;
          time.speedUp(0);
          other.lock();
        }
        if (event.type === 'warning') {
          warnings.push(event.message);
          if (event.message.includes(busy)) {
            other.release();
            time.speedUp(1);
          }
        }
      },
    });

    const ids = workload.chains.flat();
    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: ids.length, in_flight: 0, ready: 0, dead: 0 });
    expect(runExitCode(summary, null)).toBe(ExitCode.Done);
    // Whoever settled the group, each flight whose outputs it held was told: a job is put off and
    // applied again, a Flex request settles its answer again (which flights, the group's timing decides).
    expect(warnings.some((message) => message.includes(busy))).toBe(true);
    expect(events.some((event) => event.type === 'job-processed')).toBe(true);
    // The outside observers: every record written once and billed once (a Flex answer the lock kept
    // from being settled is kept and settled again: it was lost with the settle and bought again).
    expect([...readOutputs(join(workload.root, 'out'), 'files').keys()].sort()).toEqual([...ids].sort());
    const ledger = emulator.ledger.entries();
    const bills = billsPerRecord(ledger);
    expect(ids.filter((id) => bills.get(id) !== 1)).toEqual([]);
  }, 90_000);
});
