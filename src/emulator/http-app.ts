import { Hono } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { batchRoutes } from './batch-routes.js';
import { controlRoutes } from './control-routes.js';
import { fileRoutes } from './file-routes.js';
import { GoogleError } from './google-error.js';
import type { EmulatorState, Env } from './http-context.js';
import { modelRoutes } from './model-routes.js';

const NO_KEY_MESSAGE =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

/**
 * The emulator's HTTP surface: Google's routes behind an API-key check, plus `/_emulator/*`. A path
 * no route serves is answered as Google's front end answers it: an HTML 404 page, not an API error.
 */
export function emulatorApp(state: EmulatorState): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const path = c.req.path;
    // Google's front end refuses a path it does not serve before any API looks for a key.
    const served = matchedRoutes(c).some((route) => route.method !== 'ALL');
    // Upload URLs carry their own session id; Google does not ask for the key again there.
    const exempt =
      path.startsWith('/_emulator/') ||
      (path.startsWith('/upload/') && c.req.query('upload_id') !== undefined);
    // Any non-empty key is accepted unless the `apiKeys` option lists the keys; it is never logged nor echoed.
    const key = c.req.header('x-goog-api-key') || c.req.query('key');
    if (served && !exempt && !key) throw new GoogleError('PERMISSION_DENIED', NO_KEY_MESSAGE);
    if (served && !exempt && key && state.apiKeys && !state.apiKeys.has(key)) throw keyNotValid();
    await next();
  });

  app.route('/', fileRoutes(state));
  app.route('/', batchRoutes(state));
  app.route('/', modelRoutes(state));
  app.route('/', controlRoutes(state));

  // A wrong base URL (`…/v1beta` doubles the version) or method lands here. A missing model, batch or
  // file on a served route stays the API's JSON 404 NOT_FOUND: only this page tells the two apart.
  app.notFound((c) => c.html(notFoundPage(c.req.path), 404));

  app.onError((error, c) => {
    const google =
      error instanceof GoogleError
        ? error
        : new GoogleError('INTERNAL', `Internal error in the emulator: ${error.message}`);
    return c.json(google.body(), google.httpStatus as ContentfulStatusCode);
  });

  return app;
}

/**
 * Google's answer for a key it does not know (mistyped, deleted): 400 INVALID_ARGUMENT, not 403, with
 * an ErrorInfo whose reason says so (as reported in google-gemini/gemini-cli#4690 and many others).
 */
function keyNotValid(): GoogleError {
  return new GoogleError('INVALID_ARGUMENT', KEY_NOT_VALID_MESSAGE, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    {
      '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
      locale: 'en-US',
      message: KEY_NOT_VALID_MESSAGE,
    },
  ]);
}

const KEY_NOT_VALID_MESSAGE = 'API key not valid. Please pass a valid API key.';

/**
 * The page Google's front end (generativelanguage.googleapis.com) sends for a path it does not serve,
 * as `text/html; charset=UTF-8`, without its inline style and logo.
 */
function notFoundPage(path: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang=en>',
    '  <meta charset=utf-8>',
    '  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">',
    '  <title>Error 404 (Not Found)!!1</title>',
    '  <p><b>404.</b> <ins>That’s an error.</ins>',
    `  <p>The requested URL <code>${escapeHtml(path)}</code> was not found on this server.  <ins>That’s all we know.</ins>`,
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
