import { Hono } from 'hono';
import { operationJson } from './operation.js';
import {
  callKind,
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
    callKind(state, 'create'),
    async (c) => {
      const job = await batches.create(withoutMethod(c.req.param('model')), await jsonBody(c));
      return c.json(operationJson(job));
    },
  );

  app.get('/:version{v1beta|v1}/batches', callKind(state, 'list'), (c) => {
    const page = batches.list(pageSizeOf(c, 50, 1000), c.req.query('pageToken'));
    return c.json({
      ...(page.items.length > 0 ? { operations: page.items.map(operationJson) } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  });

  app.get('/:version{v1beta|v1}/batches/:id{[^/:]+}', callKind(state, 'get'), async (c) => {
    return c.json(operationJson(await batches.get(`batches/${c.req.param('id')}`)));
  });

  app.post('/:version{v1beta|v1}/batches/:id{[^/:]+:cancel}', callKind(state, 'any'), async (c) => {
    await batches.cancel(`batches/${withoutMethod(c.req.param('id'))}`);
    return c.json({});
  });

  app.delete('/:version{v1beta|v1}/batches/:id{[^/:]+}', callKind(state, 'any'), async (c) => {
    await batches.delete(`batches/${c.req.param('id')}`);
    return c.json({});
  });

  return app;
}
