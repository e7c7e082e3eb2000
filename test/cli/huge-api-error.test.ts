import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answeringWorkload } from '../fixtures/answering-workload.js';
import { runCli } from '../fixtures/cli.js';
import { startRecordingProxy } from '../fixtures/recording-proxy.js';

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

// A batch job's own error (FAILED) is filed as each of its records' failure: a 1 MB message from the
// API was stored once per record (a thousand-record job: a gigabyte) and printed with each.
describe('a failed batch job whose error message is huge', () => {
  it('files and prints it cut to 4 kB for every record', async () => {
    const { emulator, root, configPath } = await answeringWorkload(
      { books: 3, pages: 1, execution: { max_retries: 0, poll_interval: 20 } },
      () => () => undefined,
    );
    emulator.setFaults({ jobSequence: ['job_failed'] });
    const huge = 'The batch failed. '.repeat(60_000);
    const proxy = await startRecordingProxy(emulator.url, {
      rewrite: (call, body) => {
        const error = (body as { error?: { message?: string } }).error;
        return call.method === 'GET' && call.path.includes('batches/') && error?.message !== undefined
          ? { ...(body as object), error: { ...error, message: huge } }
          : undefined;
      },
    });
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace(emulator.url, proxy.url));
    const env = { GEMINI_API_KEY: 'huge-job-error-key' };
    try {
      const run = await runCli(['run', '-c', configPath], { env });
      expect(run.code, run.stderr.slice(0, 2000)).toBe(3);
      expect(run.stderr).toContain('[truncated: ');
      expect(run.stderr.length).toBeLessThan(60_000);
      const failures = await runCli(['failures', '-c', configPath], { env });
      expect(failures.stdout.match(/job_failed/g)).toHaveLength(3);
      expect(failures.stdout.length).toBeLessThan(20_000);
      const stored = readdirSync(join(root, 'state'), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
      expect(stored).toBeLessThan(1_000_000);
    } finally {
      await proxy.close();
      await emulator.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
