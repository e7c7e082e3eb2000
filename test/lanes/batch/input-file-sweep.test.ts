import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { createGeminiClient } from '../../../src/gemini/index.js';
import { InputFileSweep, type InputFileSweepDeps } from '../../../src/lanes/batch/input-file-sweep.js';
import { QUICK_RETRY } from '../../../src/retry.js';
import { ConnectionWatch } from '../../../src/runner/connection-watch.js';
import type { RunnerEvent } from '../../../src/runner/events.js';
import { RemoteApi } from '../../../src/runner/remote-api.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { emulatorClock } from '../../fixtures/emulator-clock.js';
import { startRecordingProxy, type RecordingProxy } from '../../fixtures/recording-proxy.js';

// A delete of an unused input that Google refused (5xx, 429) was tried again at every pass of the
// run, each time with the retries of any call, so a file Google kept refusing was asked for every
// few seconds; and an error that was not the API's (a TypeError of the SDK) ended the sweep's pass
// and the run. Now a refused file waits a growing backoff, kept in the store, and any error is
// reported once and the sweep goes on.
describe('the input-file sweep', () => {
  let dir: string;
  let emulator: RunningEmulator;
  let proxy: RecordingProxy;
  let store: SqliteStore;
  /** The emulator's real time stands still: it moves only when the test advances it. */
  let realNow = Date.now();
  const advance = (ms: number) => {
    realNow += ms;
  };
  const deletes = () => proxy.calls().filter((call) => call.method === 'DELETE').length;
  const uploads = () => emulator.heldFiles().filter((file) => file.source === 'UPLOADED');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-sweep-'));
    emulator = await startEmulator({ timeScale: 1, seed: 71, realNow: () => realNow });
    proxy = await startRecordingProxy(emulator.url);
  });

  afterEach(async () => {
    await store.close();
    await proxy.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The sweep's parts as a run has them: the store, the API with its retries, the emulator's clock. */
  function parts(
    events: RunnerEvent[],
    giveUpAfterMs = 600_000,
  ): InputFileSweepDeps & { uploaded: () => Promise<string[]> } {
    const clock = emulatorClock(emulator, 1);
    const client = createGeminiClient({ apiKey: 'sweep-test-key', baseUrl: proxy.url });
    store = new SqliteStore({ path: join(dir, 'state.db'), now: () => new Date(clock.now()) });
    const watch = new ConnectionWatch(clock, proxy.url, giveUpAfterMs);
    return {
      store,
      api: new RemoteApi(client, { clock, policy: QUICK_RETRY, watch }),
      emit: (event) => events.push(event),
      clock,
      // The shortest waits the backoff allows: half its ceiling.
      random: () => 0,
      uploaded: async () => {
        const names: string[] = [];
        for (const id of ['one', 'two']) {
          const path = join(dir, `${id}.jsonl`);
          writeFileSync(path, '{"key":"k","request":{"contents":[{"parts":[{"text":"hi"}]}]}}\n');
          const file = await client.uploadJsonl(path, id);
          await store.recordInputUpload(`job-${id}`, file.name);
          names.push(file.name);
        }
        return names;
      },
    };
  }

  const warnings = (events: RunnerEvent[]) =>
    events.filter(
      (event) => event.type === 'warning' && event.message.includes('Deleting the uploaded input file'),
    );

  it('asks again for a delete Google keeps refusing only after a growing wait, kept through a restart; said once', async () => {
    const events: RunnerEvent[] = [];
    const deps = parts(events);
    await deps.uploaded();
    emulator.setFaults({ http: [{ kind: 'status_503', match: 'delete' }] });
    const sweep = new InputFileSweep();

    // One call a file, no retries within the pass.
    expect(await sweep.sweep(deps)).toBe(0);
    expect(deletes()).toBe(2);
    expect(await sweep.sweep(deps)).toBe(0);
    expect(deletes()).toBe(2);
    // The first wait is 30 s at least, the second 60 s.
    advance(29_000);
    await sweep.sweep(deps);
    expect(deletes()).toBe(2);
    advance(1_000);
    await sweep.sweep(deps);
    expect(deletes()).toBe(4);
    advance(59_000);
    await sweep.sweep(deps);
    expect(deletes()).toBe(4);
    advance(1_000);
    await sweep.sweep(deps);
    expect(deletes()).toBe(6);
    expect(warnings(events)).toHaveLength(2);
    expect(warnings(events)[0]).toMatchObject({ message: expect.stringContaining('tried again in 30 s') });

    // A run started again keeps the wait (120 s now): nothing is asked at its first pass.
    await store.close();
    const restarted = parts(events);
    await new InputFileSweep().sweep(restarted);
    expect(deletes()).toBe(6);

    emulator.setFaults({});
    advance(120_000);
    expect(await new InputFileSweep().sweep(restarted)).toBe(2);
    expect(deletes()).toBe(8);
    expect(uploads()).toEqual([]);
    expect(await store.unusedInputFiles(10)).toEqual([]);
  });

  it('stops its pass, without throwing, once the API counts as unreachable: the run’s own check ends the run', async () => {
    const events: RunnerEvent[] = [];
    // Given up on at the first call that gets no answer.
    const deps = parts(events, 0);
    await deps.uploaded();
    emulator.setFaults({ http: [{ kind: 'drop', match: 'delete' }] });

    expect(await new InputFileSweep().sweep(deps)).toBe(0);
    // The first file's delete got no answer and waits its backoff; the second was not asked for.
    expect(emulator.httpFaultsFired()).toEqual([1]);
    expect(warnings(events)).toHaveLength(1);
    expect((await store.unusedInputFiles(10)).map((file) => file.deleteFailures)).toEqual([0]);
    expect(uploads()).toHaveLength(2);
  });

  it('reports an error that is not the API’s (a TypeError of the SDK) once and deletes the other files in the same pass', async () => {
    const events: RunnerEvent[] = [];
    const deps = parts(events);
    const [broken, fine] = await deps.uploaded();
    const api: InputFileSweepDeps['api'] = {
      deleteFile: (name, options) =>
        name === broken
          ? Promise.reject(new TypeError("Cannot read properties of undefined (reading 'name')"))
          : deps.api.deleteFile(name, options),
    };

    expect(await new InputFileSweep().sweep({ ...deps, api })).toBe(1);
    expect(uploads().map((file) => file.name)).toEqual([broken]);
    expect(
      proxy
        .calls()
        .filter((call) => call.method === 'DELETE')
        .map((call) => call.path),
    ).toEqual([expect.stringContaining(fine ?? 'missing')]);
    expect(warnings(events)).toHaveLength(1);
    expect(warnings(events)[0]).toMatchObject({
      message: expect.stringContaining(`${broken} failed (Cannot read`),
    });
    // Held back like any failure: the next pass does not try it at once.
    expect(await store.unusedInputFiles(10)).toEqual([]);
  });
});
