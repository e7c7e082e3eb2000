import { beforeAll, describe, expect, it } from 'vitest';
import { useEmulatedWorkload } from '../fixtures/emulated-workload.js';
import { billed } from '../fixtures/billed-figures.js';

// On a synchronous lane an answer cut at MAX_TOKENS is sent again with a larger output limit: the
// API bills both. The attempt's cost had both; its request count said one, so status, runs and the
// report counted fewer requests than the ledger billed.
describe('answers cut at MAX_TOKENS on the realtime lane', () => {
  const workload = useEmulatedWorkload({
    emulator: { seed: 21, faults: { rates: { max_tokens: 0.5 } } },
    workload: { books: 6, pages: 2, execution: { mode: 'realtime', max_retries: 3 } },
  });

  // With an output limit set, a cut answer is sent again at twice it, rung after rung up to 65,536.
  // Without one it is sent again at 65,536 at once, and a second cut there (this fault cuts one call
  // in two at any limit) would be final, dead-lettering a quarter of the records.
  beforeAll(() =>
    workload.editConfig(
      '  name: gemini-2.5-flash\n',
      '  name: gemini-2.5-flash\n  generation_config:\n    maxOutputTokens: 256\n',
    ),
  );

  it('are each counted as a billed request, as the ledger bills them', async () => {
    const run = await workload.cli(['run']);
    expect(run.code).toBe(0);
    const ledger = workload.emulator.ledger.entries();
    // The fault did cut answers: more requests billed than records.
    expect(ledger.length).toBeGreaterThan(12);
    const status = JSON.parse((await workload.cli(['status', '--json'])).stdout) as {
      billed: { requests: number; inputTokens: number; outputTokens: number };
    };
    expect(status.billed).toMatchObject({
      requests: ledger.length,
      inputTokens: billed(ledger).all.inputTokens,
      outputTokens: billed(ledger).all.outputTokens,
    });
  });
});

// A request the API refused (a 400 for the request itself) is not billed: it counted one request,
// as a batch error row counts none.
describe('requests refused by the API on the Flex lane', () => {
  const workload = useEmulatedWorkload({
    emulator: {
      seed: 22,
      responder: (call) =>
        JSON.stringify(call.request).includes('page 2 of')
          ? { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'refused by the test' } }
          : undefined,
    },
    workload: { books: 3, pages: 2, execution: { mode: 'flex', max_retries: 0 } },
  });

  it('count no billed request, as the ledger bills none', async () => {
    const run = await workload.cli(['run']);
    expect(run.code).toBe(3);
    const ledger = workload.emulator.ledger.entries();
    expect(ledger).toHaveLength(3);
    const status = JSON.parse((await workload.cli(['status', '--json'])).stdout) as {
      records: { dead: number };
      billed: { requests: number };
    };
    expect(status.records.dead).toBe(3);
    expect(status.billed.requests).toBe(3);
  });
});
