import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineWorkload, loadConfig, WavebatchError, WorkloadService } from '../../src/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatorSandbox } from '../emulator/harness.js';

// WorkloadService.open('wavebatch.yaml') from JavaScript failed deep inside with "TypeError: Cannot
// read properties of undefined"; it opens synchronously, so it refuses a path with a typed error
// that says what to call instead, and WorkloadService.load takes the path.
describe('WorkloadService given a config path', () => {
  const sandbox = emulatorSandbox();

  it('open(path) is CONFIG_NOT_LOADED (an input error) naming the path and WorkloadService.load', () => {
    const open = WorkloadService.open as (config: unknown) => WorkloadService;
    let caught: unknown;
    try {
      open('wavebatch.yaml');
    } catch (error) {
      caught = error;
    }
    expect(WavebatchError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'CONFIG_NOT_LOADED', category: 'input' });
    expect((caught as Error).message).toBe(
      'WorkloadService.open takes a loaded config, got the path "wavebatch.yaml": use ' +
        '`await WorkloadService.load("wavebatch.yaml")`, or `WorkloadService.open(await loadConfig("wavebatch.yaml"))`.',
    );
    const definition = defineWorkload({
      name: 'unloaded',
      source: { type: 'jsonl', path: 'rows.jsonl' },
      prompt: { name: 'p', version: 'v1' },
      model: { name: 'gemini-2.5-flash' },
    });
    expect(() => open(definition)).toThrow(/got an object with no configPath \(not loaded\)/);
    // load takes the definition itself: the advice names it, not a path the program does not have.
    expect(() => open(definition)).toThrow(
      'use `await WorkloadService.load(definition)`, or `WorkloadService.open(await loadConfig(definition))`.',
    );
  });

  it('load(path) loads the file as loadConfig does and opens the service', async () => {
    const workload = writeCatalogWorkload({ books: 1, pages: 2 });
    sandbox.removeAfterTest(workload.root);
    const service = await WorkloadService.load(workload.configPath);
    try {
      expect(service.config).toEqual(await loadConfig(workload.configPath));
      const status = await service.status();
      expect(status.workload).toBe('test');
    } finally {
      await service.close();
    }
  });

  it('load(path) of a path that holds no config is CONFIG_NOT_FOUND naming it', async () => {
    const missing = join(tmpdir(), 'wb-no-such-workload', 'wavebatch.yaml');
    await expect(WorkloadService.load(missing)).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: expect.stringContaining(missing) as unknown,
    });
  });
});
