import { describe, expect, it } from 'vitest';
import {
  cutFirstAnswer,
  loggedAttempts,
  runPatiently,
  startPriorityEmulator,
  writePriorityWorkload,
} from '../../fixtures/priority-workload.js';
import { emulatorSandbox } from '../../emulator/harness.js';
import { billed } from '../../fixtures/billed-figures.js';

// Whether an answer cut at MAX_TOKENS is sent again is the cost cap's call: the cut try counts as
// spent from then on. Google serves a priority request over priority's limit by standard, at
// standard's price; the cap priced the cut try at priority's, 80% over, and held back a resend the
// cap had room for.
describe('execution.max_cost deciding the resend of a cut answer that standard served', () => {
  const sandbox = emulatorSandbox();

  it('counts the cut try at the price of the tier that served it, and sends it again', async () => {
    // The first answer is cut at MAX_TOKENS after 2,000 output tokens; priority has room for no prompt (1 token a minute),
    // so standard serves (and bills) every request sent on it.
    const emulator = await startPriorityEmulator(
      sandbox,
      { tpm: 1 },
      cutFirstAnswer({ candidatesTokenCount: 2_000 }),
    );
    // gemini-2.5-flash, output $2.50 a million on standard, $4.50 on priority. Committed when the cut
    // answer comes back: the record's estimate on priority ($0.0026 with the 15% margin), the cut
    // try and the resend at twice its output on priority ($0.018). The cut try at standard's price
    // ($0.005) leaves that within $0.0276; at priority's ($0.009), over it.
    const maxCost = 0.0276;
    // A deadline only priority's latency meets: the record is sent on priority.
    const workload = writePriorityWorkload(sandbox, 1, { max_cost: maxCost });
    const { summary, events } = await runPatiently(workload.configPath, emulator);

    // Sent again at once, not failed as a max_tokens attempt the cap had no room to resend.
    const bills = emulator.ledger.entries();
    expect(bills.map((entry) => ({ lane: entry.lane, outcome: entry.outcome }))).toEqual([
      { lane: 'standard', outcome: 'max_tokens' },
      { lane: 'standard', outcome: 'ok' },
    ]);
    expect(billed(bills).all.costUsd).toBeLessThanOrEqual(maxCost);
    expect(summary.counts).toMatchObject({ done: 1 });
    const logged = await loggedAttempts(workload.root);
    expect(logged.map((event) => event.message)).toEqual([
      'The answer for ST/school1/1900/page_1 was cut off at 2000 output tokens (finishReason MAX_TOKENS); it is sent again with a limit of 65536.',
      null,
    ]);
    // Decided once: the record was not back in the ready queue for a second attempt.
    expect(events.filter((event) => event.type === 'lane-decision')).toHaveLength(1);
  }, 40_000);
});
