import { GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { jobNamePrefix } from '../../src/planner/job-name.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { billedTimes, remoteJobs } from '../fixtures/remote-jobs.js';
import { openEmulatedSession } from '../fixtures/session.js';
import { emulatorSandbox } from '../emulator/harness.js';

/** Creates a one-request inline job with this display name, as another process (or a lost intent) would. */
async function createForeignJob(
  emulator: RunningEmulator,
  displayName: string,
  key: string,
): Promise<string> {
  const ai = new GoogleGenAI({
    apiKey: 'other-key',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: emulator.url },
  });
  const job = await ai.batches.create({
    model: 'gemini-2.5-flash',
    src: [{ contents: [{ role: 'user', parts: [{ text: `orphan ${key}` }] }], metadata: { key } }],
    config: { displayName },
  });
  return job.name ?? '';
}

describe('nothing of ours runs unwatched', () => {
  let emulator: RunningEmulator | undefined;

  const sandbox = emulatorSandbox();
  afterEach(async () => {
    await emulator?.close();
  });

  it('cancels a remote job with our name that the store does not know, at start; leaves others alone', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 1 });
    sandbox.removeAfterTest(workload.root);
    // Jobs take 10 emulated minutes = 1 s real, so the orphan is still running when the run starts.
    emulator = await startEmulator({ timeScale: 600, turnaroundMs: 600_000, seed: 24 });
    const { session, events } = await openEmulatedSession(workload.configPath, emulator);
    const prefix = jobNamePrefix(session.settings.workload, await session.store.storeId());
    const orphan = await createForeignJob(emulator, `${prefix}${'f'.repeat(20)}`, 'orphan-ours');
    const otherStore = await createForeignJob(emulator, `wb-test-00000000-${'a'.repeat(20)}`, 'other-store');
    const otherWorkload = await createForeignJob(emulator, `wb-test2-${'b'.repeat(20)}`, 'other-workload');
    const summary = await session.runner.run(AbortSignal.timeout(15_000));
    await session.close();

    expect(summary.counts).toMatchObject({ done: 1, total: 1 });
    const states = new Map((await remoteJobs(emulator)).map((job) => [job.name, job.state]));
    expect(states.get(orphan)).toBe('JOB_STATE_CANCELLED');
    expect(states.get(otherStore)).not.toBe('JOB_STATE_CANCELLED');
    expect(states.get(otherWorkload)).not.toBe('JOB_STATE_CANCELLED');
    expect(billedTimes(emulator).get('orphan-ours')).toBeUndefined();
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'job-orphan', remoteName: orphan, action: 'cancelled' }),
    );
  });

  it('finds an orphan that appears mid-run on a later periodic scan', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 3 });
    sandbox.removeAfterTest(workload.root);
    emulator = await startEmulator({ timeScale: 600, turnaroundMs: 300_000, seed: 25 });
    let orphan: Promise<string> | undefined;
    let prefix = '';
    const { session, events } = await openEmulatedSession(workload.configPath, emulator, {
      remoteScanIntervalMs: 50,
      onEvent: (event) => {
        if (event.type === 'job-submitted' && !orphan)
          orphan = createForeignJob(emulator!, `${prefix}${'e'.repeat(20)}`, 'orphan-late');
      },
    });
    prefix = jobNamePrefix(session.settings.workload, await session.store.storeId());
    const summary = await session.runner.run(AbortSignal.timeout(15_000));
    await session.close();

    expect(summary.counts).toMatchObject({ done: 3, total: 3 });
    const name = await orphan;
    const states = new Map((await remoteJobs(emulator)).map((job) => [job.name, job.state]));
    expect(states.get(name ?? '')).toBe('JOB_STATE_CANCELLED');
    expect(billedTimes(emulator).get('orphan-late')).toBeUndefined();
    expect(events.some((e) => e.type === 'job-orphan' && e.remoteName === name)).toBe(true);
  });
});
