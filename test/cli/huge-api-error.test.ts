import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';

// A proxy or another server at the base URL can answer an error with a whole page: its 2 MB were
// printed whole (and, from a run, stored in the failure log at every attempt).
describe('an API error with a huge body', () => {
  let server: Server;
  let url: string;
  const page = `<html><body>${'Service down. '.repeat(150_000)}</body></html>`;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      response.writeHead(503, { 'content-type': 'text/html' }).end(page);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is printed cut to its first 4 kB, saying how large it was, with the advice after it', async () => {
    const listed = await runCli(['jobs', '--base-url', url], { env: { GEMINI_API_KEY: 'huge-error-key' } });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('error [UNAVAILABLE]: Listing batches failed (HTTP 503');
    expect(listed.stderr).toContain(`[truncated: ${Buffer.byteLength(page)} bytes in all, first 4096 kept]`);
    expect(listed.stderr).toContain('retry later');
    expect(listed.stderr.length).toBeLessThan(5000);
  });
});
