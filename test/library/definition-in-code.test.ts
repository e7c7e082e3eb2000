import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  runWorkload,
  startEmulator,
  WorkloadService,
  type RunningEmulator,
  type WorkloadRecord,
} from '../../src/index.js';
import { notesDefinition } from '../fixtures/notes-definition.js';

// A program that defines its workload in code (no wavebatch.ts on disk) hands the definition to the
// library's entry points: runWorkload and WorkloadService.load failed with a bare TypeError from
// node:path ("The \"paths[0]\" argument must be of type string"), and loadConfig took paths only.
describe('a workload defined in the program (defineWorkload), not in a file', () => {
  let emulator: RunningEmulator;
  let root: string;

  beforeEach(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 5 });
    root = mkdtempSync(join(tmpdir(), 'wb-definition-'));
    mkdirSync(join(root, 'prompts', 'note'), { recursive: true });
    writeFileSync(
      join(root, 'prompts', 'note', 'v1.jinja'),
      'Summarise note {{ record.n }}. {{ context }}\n',
    );
  });
  afterEach(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function* notes(): AsyncIterable<WorkloadRecord> {
    for (const n of [1, 2, 3])
      yield { id: `notes/n${n}`, chainId: 'notes', position: n, vars: { n }, media: [] };
  }

  const definition = () => notesDefinition('in-code', root, notes, emulator.url);

  it('runs it with runWorkload, and WorkloadService.load reads what the run left', async () => {
    const summary = await runWorkload(definition());
    expect(summary).toMatchObject({ finished: true, counts: { done: 3, total: 3 } });
    expect(
      emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['notes/n1', 'notes/n2', 'notes/n3']);
    for (const n of [1, 2, 3])
      expect(JSON.parse(readFileSync(join(root, 'out', 'notes', `n${n}.json`), 'utf8'))).toBeTypeOf('object');

    const service = await WorkloadService.load(definition());
    try {
      expect((await service.status()).records).toMatchObject({ done: 3, dead: 0 });
    } finally {
      await service.close();
    }
    // Run again: the same workload (its state is found), nothing is sent.
    expect(await runWorkload(definition())).toMatchObject({ finished: true, jobsSubmitted: 0 });
    expect(emulator.ledger.entries()).toHaveLength(3);
  });

  it('checks it as a config file is checked: a ConfigError naming the key, not a TypeError', async () => {
    const wrong = { ...definition(), execution: { max_retries: -1 } };
    const refused = await runWorkload(wrong).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', file: 'the workload definition' });
    expect((refused as ConfigError).key).toBe('execution.max_retries');
    expect(emulator.ledger.entries()).toEqual([]);

    const loaded = await loadConfig(definition());
    expect(loaded.data_dir).toBe(join(root, '.wavebatch'));
    expect(loaded.name).toBe('in-code');
  });
});
