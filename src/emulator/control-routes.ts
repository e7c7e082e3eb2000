import { Hono } from 'hono';
import { parseFaultPlan } from './fault-plan.js';
import { invalidArgument } from './google-error.js';
import { jsonBody, type EmulatorState, type Env } from './http-context.js';
import { describeErrorMessage } from '../errors.js';

/** The emulator's own endpoints (no API key): the ledger, and the fault plan of a running emulator. */
export function controlRoutes(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/_emulator/ledger', (c) =>
    c.json({ entries: state.ledger.entries(), totals: state.ledger.totals() }),
  );

  app.post('/_emulator/faults', async (c) => {
    let plan;
    try {
      plan = parseFaultPlan(await jsonBody(c), 'POST /_emulator/faults');
    } catch (error) {
      // Answered as Google's API answers, with its status: a wavebatch code has no place in it.
      throw invalidArgument(describeErrorMessage(error));
    }
    state.faults.replace(plan);
    return c.json({ faults: plan });
  });

  app.get('/_emulator/health', (c) => c.json({ ok: true, now: new Date(state.clock.now()).toISOString() }));

  return app;
}
