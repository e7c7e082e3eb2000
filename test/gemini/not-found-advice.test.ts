import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createGeminiClient, GeminiApiError } from '../../src/gemini/index.js';
import { runCli } from '../fixtures/cli.js';

async function failure(call: Promise<unknown>): Promise<GeminiApiError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(GeminiApiError.isInstance(error)).toBe(true);
  return error as GeminiApiError;
}

// A 404 means different things: a missing file (which expires after 48 h), a missing batch job, an
// unknown model, or a base URL that is not the Gemini API at all. Each gets the advice that fits.
describe('advice on a 404 fits its cause', () => {
  let emulator: RunningEmulator;
  let wrongHost: Server;
  let wrongUrl: string;

  beforeAll(async () => {
    emulator = await startEmulator({});
    // What a web server that is not the Gemini API answers: an HTML page.
    wrongHost = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<!DOCTYPE html><title>Error 404 (Not Found)!!1</title><p>That’s an error.');
    });
    await new Promise<void>((resolve) => wrongHost.listen(0, '127.0.0.1', resolve));
    wrongUrl = `http://127.0.0.1:${(wrongHost.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await emulator.close();
    await new Promise((resolve) => wrongHost.close(resolve));
  });

  it('a missing file: may have expired (48 h); a missing batch job: not in this project', async () => {
    const client = createGeminiClient({ apiKey: 'advice-test-key', baseUrl: emulator.url });
    const file = await failure(client.downloadFile('files/gone', '/tmp/never-written'));
    expect(file.code).toBe('NOT_FOUND');
    expect(file.message).toContain('files last 48 h');
    const batch = await failure(client.getBatch('batches/gone'));
    expect(batch.code).toBe('NOT_FOUND');
    expect(batch.message).toContain('No such batch job in this project');
    expect(batch.message).not.toContain('48 h');
  });

  it('a server that is not the Gemini API: the base URL is named, no talk of expiry, exit code 2', async () => {
    const client = createGeminiClient({ apiKey: 'advice-test-key', baseUrl: wrongUrl });
    for (const call of [
      client.getBatch('batches/abc'),
      client.downloadFile('files/abc', '/tmp/never-written'),
    ]) {
      const error = await failure(call);
      expect(error.code).toBe('ENDPOINT_NOT_FOUND');
      expect(error.category).toBe('input');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`The server at ${wrongUrl} answered 404 without a Gemini API error`);
      expect(error.message).toContain('api.base_url');
      expect(error.message).not.toContain('48 h');
      expect(error.message).not.toContain('DOCTYPE');
    }
    const status = await runCli(['status', 'batches/abc', '--base-url', wrongUrl], {
      env: { GEMINI_API_KEY: 'advice-test-key' },
    });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('[ENDPOINT_NOT_FOUND]');
    expect(status.stderr).not.toContain('No batch job');
  });
});
