import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  runWorkload,
  WorkloadService,
  type WorkloadRecord,
} from '../../src/index.js';
import { useNotesWorkspace } from '../fixtures/notes-definition.js';

// A program that defines its workload in code (no wavebatch.ts on disk) hands the definition to the
// library's entry points: runWorkload and WorkloadService.load failed with a bare TypeError from
// node:path ("The \"paths[0]\" argument must be of type string"), and loadConfig took paths only.
describe('a workload defined in the program (defineWorkload), not in a file', () => {
  const workspace = useNotesWorkspace('definition');

  async function* notes(): AsyncIterable<WorkloadRecord> {
    for (const n of [1, 2, 3])
      yield { id: `notes/n${n}`, chainId: 'notes', position: n, vars: { n }, media: [] };
  }

  const definition = () => workspace.definition('in-code', notes);

  it('runs it with runWorkload, and WorkloadService.load reads what the run left', async () => {
    const summary = await runWorkload(definition());
    expect(summary).toMatchObject({ finished: true, counts: { done: 3, total: 3 } });
    expect(
      workspace.emulator.ledger
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['notes/n1', 'notes/n2', 'notes/n3']);
    for (const n of [1, 2, 3])
      expect(JSON.parse(readFileSync(join(workspace.root, 'out', 'notes', `n${n}.json`), 'utf8'))).toBeTypeOf(
        'object',
      );

    const service = await WorkloadService.load(definition());
    try {
      expect((await service.status()).records).toMatchObject({ done: 3, dead: 0 });
    } finally {
      await service.close();
    }
    // Run again: the same workload (its state is found), nothing is sent.
    expect(await runWorkload(definition())).toMatchObject({ finished: true, jobsSubmitted: 0 });
    expect(workspace.emulator.ledger.entries()).toHaveLength(3);
  });

  it('checks it as a config file is checked: a ConfigError naming the key, not a TypeError', async () => {
    const wrong = { ...definition(), execution: { max_retries: -1 } };
    const refused = await runWorkload(wrong).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID', file: 'the workload definition' });
    expect((refused as ConfigError).key).toBe('execution.max_retries');
    expect(workspace.emulator.ledger.entries()).toEqual([]);

    const loaded = await loadConfig(definition());
    expect(loaded.data_dir).toBe(join(workspace.root, '.wavebatch'));
    expect(loaded.name).toBe('in-code');
  });
});
