import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { batchRoutes } from './batch-routes.js';
import { controlRoutes } from './control-routes.js';
import { fileRoutes } from './file-routes.js';
import { GoogleError } from './google-error.js';
import type { EmulatorState, Env } from './http-context.js';
import { modelRoutes } from './model-routes.js';

const NO_KEY_MESSAGE =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

/** The emulator's HTTP surface: Google's v1beta routes behind an API-key check, plus `/_emulator/*`. */
export function emulatorApp(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const path = c.req.path;
    // Upload URLs carry their own session id; Google does not ask for the key again there.
    const exempt =
      path.startsWith('/_emulator/') ||
      (path.startsWith('/upload/') && c.req.query('upload_id') !== undefined);
    // Any non-empty key is accepted; it is never logged nor echoed.
    if (!exempt && !c.req.header('x-goog-api-key') && !c.req.query('key')) {
      throw new GoogleError('PERMISSION_DENIED', NO_KEY_MESSAGE);
    }
    await next();
  });

  app.route('/', fileRoutes(state));
  app.route('/', batchRoutes(state));
  app.route('/', modelRoutes(state));
  app.route('/', controlRoutes(state));

  app.notFound((c) => {
    const error = new GoogleError(
      'NOT_FOUND',
      `Requested entity was not found: ${c.req.method} ${c.req.path}.`,
    );
    return c.json(error.body(), 404);
  });

  app.onError((error, c) => {
    const google =
      error instanceof GoogleError
        ? error
        : new GoogleError('INTERNAL', `Internal error in the emulator: ${error.message}`);
    return c.json(google.body(), google.httpStatus as ContentfulStatusCode);
  });

  return app;
}
