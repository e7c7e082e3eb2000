import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { OUTPUT_SINKS, writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { readOutputs } from '../fixtures/output-reader.js';
import { runChild, type ChildOutcome } from '../fixtures/killable-run.js';

describe.each(OUTPUT_SINKS)('crash safety, %s output sink', (sink) => {
  let emulator: RunningEmulator | undefined;
  let root = '';

  afterAll(async () => {
    await emulator?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('kill -9 at many points: every record done exactly once, no job created twice', async () => {
    // Slow job creation widens the window between storing an intent and learning the job's name.
    emulator = await startEmulator({
      timeScale: 600,
      turnaroundMs: { min: 30_000, max: 90_000 },
      seed: 5,
      faults: { slowMs: { create: 150 } },
    });
    const workload = writeCatalogWorkload({
      books: 6,
      pages: 4,
      execution: { max_concurrent_jobs: 3, max_requests_per_job: 3, poll_interval: 25 },
      sink,
    });
    root = workload.root;

    // Kill points cycle through early (during sync/first submissions) and later (mid-results) moments.
    const killPoints = [1, 2, 3, 1, 4, 6, 2, 8, 3, 10, 5, 12, 2, 7, 15, 4, 9, 20];
    let kills = 0;
    let outcome: ChildOutcome = { finished: false, killedAfterEvents: 0 };
    for (const point of killPoints) {
      outcome = await runChild(workload.configPath, emulator.url, point);
      if (outcome.finished) break;
      kills++;
    }
    for (let attempt = 0; attempt < 5 && !outcome.finished; attempt++) {
      outcome = await runChild(workload.configPath, emulator.url, null);
    }
    expect(outcome.finished).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(8);

    const ids = workload.chains.flat();
    const ledger = emulator.ledger.entries();
    // Each output committed once (a JSONL id committed twice fails the read).
    const outputs = readOutputs(join(root, 'out'), sink);
    expect([...outputs.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(
        ledger.filter((entry) => entry.key === id),
        `billed once: ${id}`,
      ).toHaveLength(1);
      expect(typeof outputs.get(id)?.output.carry_over).toBe('string');
    }
    expect(ledger).toHaveLength(ids.length);
    // Chain context survived every crash: each page was prompted with its predecessor's output.
    for (const chain of workload.chains) {
      for (let index = 1; index < chain.length; index++) {
        const previous = outputs.get(chain[index - 1] as string);
        const entry = ledger.find((e) => e.key === chain[index]);
        expect(entry?.promptText).toContain(previous?.output.carry_over);
      }
    }

    // The inference log survived every crash too: each billed request has exactly one attempt event.
    const store = new SqliteStore({ path: join(root, 'state', 'state.db') });
    const attempts = await store.listEvents({ kind: 'attempt' });
    await store.close();
    expect(attempts).toHaveLength(ledger.length);
    for (const entry of ledger)
      expect(attempts.filter((e) => e.requestId === entry.key && e.jobName === entry.batchName)).toHaveLength(
        1,
      );

    const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: emulator.url } });
    const names: string[] = [];
    for await (const job of await ai.batches.list({ config: { pageSize: 50 } }))
      names.push(job.displayName ?? '');
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
  }, 240_000);
});
