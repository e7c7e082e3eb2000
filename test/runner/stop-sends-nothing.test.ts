import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createGeminiClient } from '../../src/gemini/index.js';
import { runWorkload } from '../../src/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig } from '../fixtures/session.js';

// A run asked to stop sends nothing new: with its signal aborted before it started, the first pass
// still created a batch job (and the API billed its requests when it finished).
describe('a run whose signal aborts', () => {
  let emulator: RunningEmulator;
  let root = '';

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 9 });
  });
  afterEach(async () => {
    await emulator.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const remoteJobs = async () => {
    const client = createGeminiClient({ apiKey: 'stop-test-key', baseUrl: emulator.url });
    const names: string[] = [];
    for await (const job of client.listBatches()) names.push(job.name);
    return names;
  };

  it('before it starts: syncs, sends nothing, and says it was interrupted', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2 });
    root = workload.root;
    const stop = new AbortController();
    stop.abort();
    const summary = await runWorkload(await emulatedConfig(workload.configPath, emulator), {
      signal: stop.signal,
    });
    expect(summary).toMatchObject({ jobsSubmitted: 0, finished: false, outcome: 'interrupted' });
    expect(summary.counts).toMatchObject({ total: 6, ready: 3, blocked: 3, in_flight: 0 });
    expect(await remoteJobs()).toEqual([]);
  });

  it('mid-run: the jobs already out are kept, no new one is created, and the next run finishes', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2 });
    root = workload.root;
    const config = await emulatedConfig(workload.configPath, emulator);
    const stop = new AbortController();
    const first = await runWorkload(config, {
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === 'job-processed') stop.abort();
      },
    });
    // The summary says why it is not finished: the signal, not a cap or a pass that left work.
    expect(first).toMatchObject({ finished: false, outcome: 'interrupted' });
    // The first round's job came back and was applied; the second round (the pages 2) never went.
    expect(first.counts).toMatchObject({ done: 3, ready: 3, in_flight: 0 });
    expect(await remoteJobs()).toHaveLength(1);
    const second = await runWorkload(config);
    expect(second).toMatchObject({ finished: true, outcome: 'finished' });
    expect(emulator.ledger.entries()).toHaveLength(6);
  });
});
