import { ApiError, GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { emulatorSandbox, sdkFor } from './harness.js';

const MODEL = 'gemini-2.5-flash';
const KEY = { 'x-goog-api-key': 'front-end-test-key' };

// Google's front end answers a path it does not serve with an HTML page, before any API sees the
// call; a served route whose model, batch or file is missing answers with the API's JSON error. A
// client tells a wrong base URL from a missing resource by that difference alone.
describe("the emulator's answer to a path it does not serve", () => {
  const sandbox = emulatorSandbox();

  it('is an HTML 404 page, with or without a key, for any method', async () => {
    const emulator = await sandbox.startEmulator();
    const unserved: Array<[string, string, Record<string, string>]> = [
      // A base URL that already holds the version: the SDK adds its own.
      ['POST', `/v1beta/v1beta/models/${MODEL}:batchGenerateContent`, KEY],
      ['POST', `/v1beta/v1beta/models/${MODEL}:generateContent`, KEY],
      ['GET', '/v1beta/v1beta/batches/abc', KEY],
      ['GET', '/', KEY],
      ['GET', '/v2/models', KEY],
      // A served path with a method it does not take.
      ['GET', `/v1beta/models/${MODEL}:generateContent`, KEY],
      // No key: the front end refuses the path before an API asks for one.
      ['POST', `/v1beta/v1beta/models/${MODEL}:generateContent`, {}],
    ];
    for (const [method, path, headers] of unserved) {
      const response = await fetch(`${emulator.url}${path}`, {
        method,
        headers: { ...headers, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }) } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.headers.get('content-type')).toBe('text/html; charset=UTF-8');
      const page = await response.text();
      expect(page).toMatch(/^<!DOCTYPE html>/);
      expect(page).toContain('<title>Error 404 (Not Found)!!1</title>');
      expect(page).toContain(`The requested URL <code>${path}</code> was not found on this server.`);
    }
    const odd = await fetch(`${emulator.url}/<b>teapot</b>?q=1`, { headers: KEY });
    expect(await odd.text()).toContain('<code>/&#60;b&#62;teapot&#60;/b&#62;</code>');
    expect(emulator.ledger.entries()).toEqual([]);
  });

  it('reaches the SDK as an ApiError whose status is the reason phrase, not an RPC status', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = new GoogleGenAI({
      apiKey: 'front-end-test-key',
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: `${emulator.url}/v1beta` },
    });
    const error = await ai.models.generateContent({ model: MODEL, contents: 'hi' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    const body = JSON.parse((error as ApiError).message) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('Not Found');
    expect(body.error.message).toContain('Error 404 (Not Found)!!1');
  });

  it('leaves the JSON NOT_FOUND to served routes: an unknown model, a missing batch', async () => {
    const emulator = await sandbox.startEmulator();
    const ai = sdkFor(emulator);
    for (const [method, call] of [
      ['generateContent', () => ai.models.generateContent({ model: 'gemini-0-missing', contents: 'hi' })],
      [
        'batchGenerateContent',
        () => ai.batches.create({ model: 'gemini-0-missing', src: [{ contents: 'hi' }] }),
      ],
    ] as const) {
      const error = (await call().catch((e: unknown) => e)) as ApiError;
      expect(error).toBeInstanceOf(ApiError);
      expect(error.status).toBe(404);
      expect(JSON.parse(error.message)).toEqual({
        error: {
          code: 404,
          status: 'NOT_FOUND',
          message: `models/gemini-0-missing is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
        },
      });
    }
    for (const [method, path] of [
      ['POST', '/v1beta/models/gemini-0-missing:generateContent'],
      ['POST', '/v1/models/gemini-0-missing:batchGenerateContent'],
      ['GET', '/v1beta/batches/missing'],
    ]) {
      const response = await fetch(`${emulator.url}${path}`, {
        method,
        headers: { ...KEY, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    }
  });

  // A body over the front end's limit never reaches the API: the front end answers 413 with its
  // HTML page, and nothing is created (no job, no file) or billed.
  it('answers a create or an upload over maxRequestBytes with the HTML 413 page', async () => {
    const emulator = await sandbox.startEmulator({ maxRequestBytes: 2000 });
    const ai = sdkFor(emulator);
    const page = (size: number) => [{ contents: [{ parts: [{ text: 'x'.repeat(size) }] }] }];
    const created = (src: ReturnType<typeof page>) =>
      ai.batches.create({ model: MODEL, src }).catch((e: unknown) => e);
    const refused = (await created(page(3000))) as ApiError;
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused.status).toBe(413);
    expect(refused.message).toContain('<title>Error 413 (Request Entity Too Large)!!1</title>');
    expect(await created(page(10))).toMatchObject({ name: expect.stringMatching(/^batches\//) });

    const upload = (bytes: number) =>
      ai.files
        .upload({ file: new Blob(['y'.repeat(bytes)], { type: 'text/plain' }) })
        .catch((e: unknown) => e);
    expect(((await upload(3000)) as ApiError).status).toBe(413);
    expect(await upload(100)).toMatchObject({ name: expect.stringMatching(/^files\//) });

    const jobs = [];
    for await (const job of await ai.batches.list()) jobs.push(job);
    expect(jobs).toHaveLength(1);
    expect(emulator.ledger.entries()).toEqual([]);
  });
});
