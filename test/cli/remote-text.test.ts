import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { sdkFor } from '../emulator/harness.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../fixtures/recording-proxy.js';

// Clear the screen, retitle the window, and a C1 CSI (one byte, 0x9b, that some terminals read as
// ESC [): what another tool's batch job name, or an API at a base URL that is not Google's, can hold.
const SEQUENCES = '\u001b[2J\u001b]0;pwned\u0007\u009b31m';
const SHOWN = '\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m';
// eslint-disable-next-line no-control-regex -- raw control characters are what must not be printed
const RAW_CONTROL = /[\u001b\u0007\u009b]/;
const env = { GEMINI_API_KEY: 'remote-text-test-key' };

/** Every display name and message in an API answer, with the sequences appended. */
function hostile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hostile);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      (key === 'displayName' || key === 'message') && typeof field === 'string'
        ? `${field} ${SEQUENCES}`
        : hostile(field),
    ]),
  );
}

describe('text from the API printed by the job commands and doctor', () => {
  let emulator: RunningEmulator;
  let proxy: RecordingProxy;
  let name: string;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 1000 });
    emulator.setFaults({ jobSequence: ['job_failed'] });
    const job = await sdkFor(emulator).batches.create({
      model: 'gemini-2.5-flash',
      src: [{ contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }],
      config: { displayName: 'another tool' },
    });
    name = job.name ?? '';
    proxy = await startRecordingProxy(emulator.url, { rewrite: (_call, body) => hostile(body) });
    // The job fails after a second of emulated time (an hour per real second).
    while ((await sdkFor(emulator).batches.get({ name })).state !== 'JOB_STATE_FAILED')
      await new Promise((resolve) => setTimeout(resolve, 50));
  });

  afterAll(async () => {
    await proxy.close();
    await emulator.close();
  });

  it('jobs and status show the sequences as text', async () => {
    const listed = await runCli(['jobs', '--base-url', proxy.url], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`another tool ${SHOWN}`);
    const shown = await runCli(['status', name, '--base-url', proxy.url], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`display name  another tool ${SHOWN}`);
    expect(shown.stdout).toMatch(/error .*emulated fault job_failed.*\\u001b\[2J/);
    for (const printed of [listed, shown]) expect(printed.stdout + printed.stderr).not.toMatch(RAW_CONTROL);
  });

  it('jobs --json escapes them too, and reads back as the API sent them', async () => {
    const listed = await runCli(['jobs', '--json', '--base-url', proxy.url], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toMatch(RAW_CONTROL);
    const jobs = JSON.parse(listed.stdout) as Array<{ displayName?: string }>;
    expect(jobs.map((job) => job.displayName)).toEqual([`another tool ${SEQUENCES}`]);
  });

  it('doctor shows the message of an API it cannot list as text', async () => {
    const refusing: Server = createServer((request, response) => {
      request.resume();
      const body = { error: { code: 503, status: 'UNAVAILABLE', message: `down ${SEQUENCES}` } };
      response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    // Run once against the emulator (doctor looks at the API of a workload that has run), then
    // pointed at the API that refuses.
    const workload = writeCatalogWorkload({
      books: 1,
      pages: 1,
      execution: { poll_interval: 20 },
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    try {
      expect((await runCli(['run', '-c', workload.configPath], { env })).code).toBe(0);
      const yaml = readFileSync(workload.configPath, 'utf8');
      writeFileSync(workload.configPath, yaml.replace(emulator.url, url));
      const doctor = await runCli(['doctor', '-c', workload.configPath], { env });
      expect(doctor.stdout).toContain(`down ${SHOWN}`);
      expect(doctor.stdout + doctor.stderr).not.toMatch(RAW_CONTROL);
    } finally {
      refusing.closeAllConnections();
      await new Promise((resolve) => refusing.close(resolve));
      rmSync(workload.root, { recursive: true, force: true });
    }
  });
});
