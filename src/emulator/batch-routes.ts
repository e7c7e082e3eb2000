import { Hono } from 'hono';
import { operationJson } from './operation.js';
import { MAX_REQUEST_BYTES } from './google-error.js';
import { requireModel } from './request-checks.js';
import { pageJson } from './paging.js';
import {
  injectFaults,
  jsonBody,
  pageSizeOf,
  requestTooLarge,
  withoutMethod,
  API_VERSION,
  type EmulatorState,
  type Env,
} from './http-context.js';

/** The Batch API: create (`models/{model}:batchGenerateContent`), get, list, cancel, delete. */
export function batchRoutes(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();
  const { batches } = state;

  app.post(
    `/${API_VERSION}/models/:model{[^/:]+:batchGenerateContent}`,
    injectFaults(state, 'create'),
    async (c) => {
      const model = requireModel(c, 'batchGenerateContent', state.models);
      const limit = state.maxRequestBytes;
      if (limit !== null && Buffer.byteLength(await c.req.text(), 'utf8') > limit) return requestTooLarge(c);
      // Inline requests travel in this body: Google refuses one over 20 MB in all.
      const job = await batches.create(model, await jsonBody(c, MAX_REQUEST_BYTES));
      return c.json(operationJson(job));
    },
  );

  app.get(`/${API_VERSION}/batches`, injectFaults(state, 'list'), (c) => {
    const page = batches.list(pageSizeOf(c, 50, 1000), c.req.query('pageToken'));
    return c.json(pageJson(page, 'operations', (job) => operationJson(job, 'list')));
  });

  app.get(`/${API_VERSION}/batches/:id{[^/:]+}`, injectFaults(state, 'get'), async (c) => {
    return c.json(operationJson(await batches.get(`batches/${c.req.param('id')}`)));
  });

  app.post(`/${API_VERSION}/batches/:id{[^/:]+:cancel}`, injectFaults(state, 'any'), async (c) => {
    await batches.cancel(`batches/${withoutMethod(c.req.param('id'))}`);
    return c.json({});
  });

  app.delete(`/${API_VERSION}/batches/:id{[^/:]+}`, injectFaults(state, 'delete'), async (c) => {
    await batches.delete(`batches/${c.req.param('id')}`);
    return c.json({});
  });

  return app;
}
