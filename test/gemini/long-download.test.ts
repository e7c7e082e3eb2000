import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiClient } from '../../src/gemini/index.js';

/** The client's per-call HTTP timeout here: the whole download takes three times as long. */
const TIMEOUT_MS = 400;
const CHUNKS = 12;
const CHUNK_EVERY_MS = 100;

/** Serves one results file slowly: a line every CHUNK_EVERY_MS, as a large file on a slow link. */
async function trickleServer(stallAfter = CHUNKS): Promise<{ url: string; server: Server; body: string }> {
  const lines = Array.from({ length: CHUNKS }, (_, i) => `{"key":"r${i}","response":{}}\n`);
  const server = createServer((request, answer) => {
    if (!request.url?.includes(':download')) {
      answer.writeHead(404, { 'content-type': 'application/json' });
      answer.end(JSON.stringify({ error: { code: 404, message: 'Not found.', status: 'NOT_FOUND' } }));
      return;
    }
    answer.writeHead(200, { 'content-type': 'application/jsonl' });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= stallAfter) return;
      answer.write(lines[sent]);
      sent += 1;
      if (sent === lines.length) {
        clearInterval(timer);
        answer.end();
      }
    }, CHUNK_EVERY_MS);
    answer.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, body: lines.join('') };
}

// The SDK's per-call timeout bounds the whole answer, body included: a results file that takes
// longer to arrive than it (120 s by default: a few GB on a slow link) was cut off at every try,
// and the job was tried again on every pass, for ever.
describe('downloading a results file that takes longer than the HTTP timeout', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('completes while bytes keep arriving', async () => {
    const { url, server, body } = await trickleServer();
    const dir = mkdtempSync(join(tmpdir(), 'wavebatch-long-download-'));
    cleanups.push(
      () => server.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    );
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: url, timeoutMs: TIMEOUT_MS });
    const path = join(dir, 'results.jsonl');
    await client.downloadFile('files/batch-results', path);
    expect(readFileSync(path, 'utf8')).toBe(body);
  });

  it('still gives up on an answer that stops arriving for the timeout', async () => {
    const { url, server } = await trickleServer(2);
    const dir = mkdtempSync(join(tmpdir(), 'wavebatch-long-download-'));
    cleanups.push(
      () => server.closeAllConnections(),
      () => server.close(),
      () => rmSync(dir, { recursive: true, force: true }),
    );
    const client = createGeminiClient({ apiKey: 'test-key', baseUrl: url, timeoutMs: TIMEOUT_MS });
    const path = join(dir, 'results.jsonl');
    await expect(client.downloadFile('files/batch-results', path)).rejects.toMatchObject({
      code: 'NETWORK',
      retryable: true,
    });
    expect(existsSync(path)).toBe(false);
  });
});
