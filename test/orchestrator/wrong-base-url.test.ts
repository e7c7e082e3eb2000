import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { openWorkloadSession } from '../../src/runner/workload-session.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { runCli } from '../fixtures/cli.js';
import { emulatedConfig } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

// A base URL pointed at the wrong server for one run answers every call with a 404 page. That is
// not "the job is gone": releasing its records would send them, and pay for them, a second time.
// The run stops with ENDPOINT_NOT_FOUND instead, keeping its jobs.
describe('a run against a wrong base URL', () => {
  let emulator: RunningEmulator;
  let wrongHost: Server;
  let wrongUrl: string;

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 60_000, seed: 3 });
    wrongHost = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<html><body>404 Not Found</body></html>');
    });
    await new Promise<void>((resolve) => wrongHost.listen(0, '127.0.0.1', resolve));
    wrongUrl = `http://127.0.0.1:${(wrongHost.address() as AddressInfo).port}`;
  });
  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator.close();
    await new Promise((resolve) => wrongHost.close(resolve));
  });

  it('keeps its jobs, says the base URL is wrong, and bills every record once when pointed back', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 1 });
    sandbox.removeAfterTest(workload.root);
    const config = await emulatedConfig(workload.configPath, emulator);

    const first = await openWorkloadSession(config);
    expect((await first.runner.runOnce()).jobsSubmitted).toBeGreaterThan(0);
    await first.close();

    const events: RunnerEvent[] = [];
    const wrong = await openWorkloadSession(
      { ...config, api: { base_url: wrongUrl } },
      { onEvent: (event) => events.push(event) },
    );
    // Every call would meet the same 404: the run stops at once with an error that names the cause.
    const stopped = await wrong.runner.runOnce().catch((error: unknown) => error);
    const during = await wrong.store.counts();
    await wrong.close();
    expect(stopped).toMatchObject({ code: 'ENDPOINT_NOT_FOUND' });
    expect((stopped as Error).message).toContain(`The server at ${wrongUrl} answered 404`);
    expect(during.in_flight).toBe(3);
    expect(events.some((event) => event.type === 'job-submitted')).toBe(false);

    const back = await openWorkloadSession(config);
    const summary = await back.runner.run();
    await back.close();
    expect(summary.counts).toMatchObject({ done: 3, total: 3 });
    const keys = emulator.ledger.entries().map((entry) => entry.key);
    expect(keys.sort()).toEqual(workload.chains.map((chain) => chain[0]).sort());
  });

  // The mistake the README warns of: the emulator's URL with the API version on it. The SDK adds its
  // own version (`/v1beta/v1beta/models/...`), a path the emulator, like Google's front end, does not
  // serve: an HTML 404, not the API's NOT_FOUND that would read as a missing model.
  it('the real bin pointed at the emulator with /v1beta on its URL stops with ENDPOINT_NOT_FOUND, exit 2', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 1, execution: { poll_interval: 20 } });
    sandbox.removeAfterTest(workload.root);
    const withVersion = `${emulator.url}/v1beta`;
    const result = await runCli(['run', '-c', workload.configPath, '--base-url', withVersion], {
      env: { GEMINI_API_KEY: 'wrong-base-url-key' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[ENDPOINT_NOT_FOUND]');
    expect(result.stderr).toContain(`The server at ${withVersion} answered 404 without a Gemini API error`);
    expect(result.stderr).not.toContain('Check the model name');
    expect(result.stderr).not.toContain('<!DOCTYPE');

    // Not one record failed: none is dead-lettered nor charged an attempt, and nothing was billed.
    const session = await openWorkloadSession(await emulatedConfig(workload.configPath, emulator));
    const counts = await session.store.counts();
    const failures = await session.store.listFailures();
    await session.close();
    expect(counts).toMatchObject({ dead: 0, done: 0, total: 2 });
    expect(failures).toEqual([]);
    expect(emulator.ledger.entries()).toEqual([]);
  });
});
