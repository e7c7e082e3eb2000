import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import { ApiUnreachableError } from '../../src/runner/connection-watch.js';
import { openWorkloadSession } from '../../src/runner/workload-session.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { catalogOnEmulator } from '../fixtures/catalog-on-emulator.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { billedTimes } from '../fixtures/remote-jobs.js';
import { FAST_RETRY, openEmulatedSession } from '../fixtures/session.js';

/** Runs the workload against `url` (not the emulator) until it stops: the error it stopped with, and its warnings. */
async function runAgainst(configPath: string, url: string): Promise<{ error: unknown; warnings: string[] }> {
  const config = await loadConfig(configPath, {});
  const warnings: string[] = [];
  const session = await openWorkloadSession(
    { ...config, apiKey: 'test-key', api: { base_url: url } },
    {
      retryPolicy: FAST_RETRY,
      onEvent: (event) => {
        if (event.type === 'warning') warnings.push(event.message);
      },
    },
  );
  try {
    await session.runner.run(AbortSignal.timeout(15_000));
    return { error: undefined, warnings };
  } catch (error) {
    return { error, warnings };
  } finally {
    await session.close();
  }
}

describe('remote errors that are not transient', () => {
  const sandbox = emulatorSandbox();

  it("a 400 on one job's create fails that job's records (retry, then dead letter) and the run goes on", async () => {
    // The first three creates are refused: the first record twice (dead after 1 + max_retries), the
    // second once (then it succeeds).
    const { workload, emulator } = await catalogOnEmulator(
      sandbox,
      {
        books: 2,
        pages: 1,
        execution: { max_retries: 1, max_requests_per_job: 1, max_concurrent_jobs: 1 },
      },
      {
        turnaroundMs: 30_000,
        seed: 22,
        faults: { http: [{ kind: 'status_400', match: 'create', count: 3 }] },
      },
    );
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    const summary = await session.runner.run(AbortSignal.timeout(15_000));
    const failures = await session.store.listFailures();
    const dead = await session.store.listFailures({ deadOnly: true });
    await session.close();

    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 1, dead: 1, total: 2 });
    expect(failures).toHaveLength(3);
    expect(
      failures.every((f) => f.cause === 'api_error' && /emulated fault status_400/.test(f.message)),
    ).toBe(true);
    expect(dead).toHaveLength(1);
    const billed = billedTimes(emulator);
    expect([...billed.values()]).toEqual([1]);
  });

  it('an unreachable API ends the run after execution.give_up_after, naming the base URL and the cause', async () => {
    // give_up_after runs on the real clock from the first refused call: 300 ms ran out under a loaded
    // machine before the run reached a job's creation (token calibration and the remote listing are
    // refused first), so the creation warnings this test reads were never written.
    const workload = writeCatalogWorkload({ books: 1, pages: 1, execution: { give_up_after: '3s' } });
    sandbox.removeAfterTest(workload.root);
    // A port that was just free: connections are refused.
    const gone = await startEmulator();
    const url = gone.url;
    await gone.close();
    const { error, warnings } = await runAgainst(workload.configPath, url);
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as ApiUnreachableError).code).toBe('API_UNREACHABLE');
    expect((error as Error).message).toContain(url);
    expect((error as Error).message).toMatch(/ECONNREFUSED|fetch failed/);
    expect((error as ApiUnreachableError).category).toBe('failure');
    // Each warning names the one call that failed: after a create with no answer, the retry's look-up
    // by name ("Listing batches") failed, which an outer "Creating job … failed" used to misname.
    const creation = warnings.filter((message) => message.includes('not created yet'));
    expect(creation.length, warnings.join('\n')).toBeGreaterThan(0);
    for (const message of creation) {
      expect(message).toMatch(
        /^Job \S+ is not created yet \(will retry\): (Creating batch \S+|Listing batches) failed: fetch failed/,
      );
      expect(message.match(/Creating|Listing/g)).toHaveLength(1);
    }
  });

  it('a base URL that is not the Gemini API stops the run instead of dead-lettering every record', async () => {
    const workload = writeCatalogWorkload({ books: 2, pages: 1 });
    sandbox.removeAfterTest(workload.root);
    // Some other web server: 404 with an HTML page for every path.
    const server = createServer((_request, response) => response.writeHead(404).end('<h1>Not Found</h1>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { error, warnings } = await runAgainst(workload.configPath, url).finally(() => server.close());
    expect(error).toMatchObject({ code: 'ENDPOINT_NOT_FOUND' });
    // Said once, as the run's error: the token calibration warned of the same 404 before it.
    expect(warnings.filter((message) => message.includes('Token calibration skipped'))).toEqual([]);
    const config = await loadConfig(workload.configPath, {});
    const reopened = await openWorkloadSession(
      { ...config, apiKey: 'test-key', api: { base_url: url } },
      { retryPolicy: FAST_RETRY },
    );
    const failures = await reopened.store.listFailures();
    await reopened.close();
    expect(failures).toEqual([]);
  });
});
