import { beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { createGeminiClient } from '../../src/gemini/index.js';
import { runWorkload, type WorkloadRecord } from '../../src/index.js';
import { emulatorSandbox } from '../emulator/harness.js';
import { notesDefinition, writeNotePrompt } from '../fixtures/notes-definition.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig } from '../fixtures/session.js';

// A run asked to stop sends nothing new: with its signal aborted before it started, the first pass
// still created a batch job (and the API billed its requests when it finished).
describe('a run whose signal aborts', () => {
  const sandbox = emulatorSandbox();
  let emulator: RunningEmulator;

  beforeEach(async () => {
    emulator = await sandbox.startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 9 });
  });

  const remoteJobs = async () => {
    const client = createGeminiClient({ apiKey: 'stop-test-key', baseUrl: emulator.url });
    const names: string[] = [];
    for await (const job of client.listBatches()) names.push(job.name);
    return names;
  };

  it('before it starts: reads nothing, sends nothing, says it was interrupted; the next run does it all', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2 });
    sandbox.removeAfterTest(workload.root);
    const config = await emulatedConfig(workload.configPath, emulator);
    const stop = new AbortController();
    stop.abort();
    const summary = await runWorkload(config, { signal: stop.signal });
    expect(summary).toMatchObject({ jobsSubmitted: 0, finished: false, outcome: 'interrupted' });
    expect(summary.counts).toMatchObject({ total: 0, in_flight: 0 });
    expect(await remoteJobs()).toEqual([]);
    expect(await runWorkload(config)).toMatchObject({ outcome: 'finished', counts: { done: 6, total: 6 } });
    expect(emulator.ledger.entries()).toHaveLength(6);
  });

  // The sync read the whole source before the signal was looked at: a run stopped while syncing
  // millions of records (or a slow source) returned only minutes later.
  it('during the sync: stops reading the source there, and the next run syncs it all and sends each record once', async () => {
    const root = sandbox.tempDir('stop-sync');
    writeNotePrompt(root, 'Summarise note {{ record.n }}.\n');
    const stop = new AbortController();
    let read = 0;
    async function* notes(): AsyncIterable<WorkloadRecord> {
      for (let n = 1; n <= 40; n++) {
        read++;
        // The program stops the run while its source is being read.
        if (n === 5) stop.abort();
        yield { id: `notes/n${n}`, chainId: `c${n % 4}`, position: n, vars: { n }, media: [] };
      }
    }
    const workload = notesDefinition('stop-in-sync', root, notes, emulator.url);
    const first = await runWorkload(workload, { signal: stop.signal });
    expect(first).toMatchObject({ outcome: 'interrupted', jobsSubmitted: 0 });
    expect(read).toBeLessThan(10);
    expect(await remoteJobs()).toEqual([]);

    read = 0;
    const second = await runWorkload(workload);
    expect(second).toMatchObject({ outcome: 'finished', counts: { done: 40, total: 40 } });
    expect(read).toBe(40);
    const billed = emulator.ledger.entries().map((entry) => entry.key);
    expect(billed).toHaveLength(40);
    expect(new Set(billed).size).toBe(40);
  });

  it('mid-run: the jobs already out are kept, no new one is created, and the next run finishes', async () => {
    const workload = writeCatalogWorkload({ books: 3, pages: 2 });
    sandbox.removeAfterTest(workload.root);
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
