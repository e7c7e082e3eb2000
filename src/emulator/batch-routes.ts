import { Hono } from 'hono';
import { operationJson } from './operation.js';
import { pageJson } from './paging.js';
import {
  injectFaults,
  jsonBody,
  pageSizeOf,
  withoutMethod,
  type EmulatorState,
  type Env,
} from './http-context.js';

/** The Batch API: create (`models/{model}:batchGenerateContent`), get, list, cancel, delete. */
export function batchRoutes(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();
  const { batches } = state;

  app.post(
    '/:version{v1beta|v1}/models/:model{[^/:]+:batchGenerateContent}',
    injectFaults(state, 'create'),
    async (c) => {
      const job = await batches.create(withoutMethod(c.req.param('model')), await jsonBody(c));
      return c.json(operationJson(job));
    },
  );

  app.get('/:version{v1beta|v1}/batches', injectFaults(state, 'list'), (c) => {
    const page = batches.list(pageSizeOf(c, 50, 1000), c.req.query('pageToken'));
    return c.json(pageJson(page, 'operations', operationJson));
  });

  app.get('/:version{v1beta|v1}/batches/:id{[^/:]+}', injectFaults(state, 'get'), async (c) => {
    return c.json(operationJson(await batches.get(`batches/${c.req.param('id')}`)));
  });

  app.post('/:version{v1beta|v1}/batches/:id{[^/:]+:cancel}', injectFaults(state, 'any'), async (c) => {
    await batches.cancel(`batches/${withoutMethod(c.req.param('id'))}`);
    return c.json({});
  });

  app.delete('/:version{v1beta|v1}/batches/:id{[^/:]+}', injectFaults(state, 'any'), async (c) => {
    await batches.delete(`batches/${c.req.param('id')}`);
    return c.json({});
  });

  return app;
}
