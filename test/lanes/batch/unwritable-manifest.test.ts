import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shardFileName } from '../../../src/outputs/index.js';
import { billsPerRecord } from '../../fixtures/catalog-ledger.js';
import { catalogOnEmulator } from '../../fixtures/catalog-on-emulator.js';
import { readOutputs } from '../../fixtures/output-reader.js';
import { runOnEmulatorClock } from '../../fixtures/session.js';
import { emulatorSandbox } from '../../emulator/harness.js';

const TIME_SCALE = 3_600;

// A JSONL manifest that could not be written ended the run with a bare fs error after a batch job
// was applied (and at every start while it stayed unwritable).
describe('a JSONL manifest that cannot be written', () => {
  const sandbox = emulatorSandbox();

  it('is warned about once, naming the file and the OS error; the run goes on, buys each answer once, and a later checkpoint writes it', async () => {
    // Three pages a book: three rounds, three batch jobs, a checkpoint after each.
    const { emulator, workload } = await catalogOnEmulator(
      sandbox,
      {
        books: 2,
        pages: 3,
        sink: 'jsonl',
        execution: { mode: 'batch', max_retries: 2, poll_interval: '30s' },
      },
      { seed: 7 },
    );
    const out = join(workload.root, 'out');
    const manifest = join(out, 'manifest.json');
    const warnings: string[] = [];
    let processed = 0;

    const { summary } = await runOnEmulatorClock(workload.configPath, emulator, {
      timeScale: TIME_SCALE,
      signal: AbortSignal.timeout(30_000),
      onEvent: (event) => {
        if (event.type === 'warning') warnings.push(event.message);
        // Written at start; then a folder takes its place, and renaming a new manifest over it fails
        // (EISDIR) after the first two jobs. Fixed then, the checkpoint after the third writes it.
        if (event.type === 'job-submitted' && processed === 0 && statSync(manifest).isFile()) {
          rmSync(manifest);
          mkdirSync(manifest);
          writeFileSync(join(manifest, 'in-the-way'), '');
        }
        if (event.type === 'job-processed' && ++processed === 2) rmSync(manifest, { recursive: true });
      },
    });

    expect(summary.finished).toBe(true);
    expect(summary.counts).toMatchObject({ done: 6, dead: 0, total: 6 });
    expect(processed).toBe(3);
    const told = warnings.filter((message) => message.includes('manifest'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain(`The JSONL manifest ${manifest} could not be written (EISDIR`);
    expect(told[0]).toContain('No output is lost');
    // Each answer bought once, and committed once, as an outside reader finds them through the manifest.
    expect([...billsPerRecord(emulator.ledger.entries()).values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect([...readOutputs(out, 'jsonl').keys()].sort()).toEqual(workload.chains.flat().sort());
    const listed = JSON.parse(readFileSync(manifest, 'utf8')) as {
      shards: Array<{ file: string; bytes: number }>;
    };
    expect(listed.shards).toEqual([
      { file: shardFileName(1), bytes: statSync(join(out, shardFileName(1))).size },
    ]);
  }, 60_000);
});
