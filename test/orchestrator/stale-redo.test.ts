import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { openWorkloadSession } from '../../src/runner/workload-session.js';
import { WorkloadService } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig } from '../fixtures/session.js';
import { runCli } from '../fixtures/cli.js';

interface OutputFile {
  meta: { prompt: { version: string; template?: string }; model: string; source?: { hash: string } };
}

// Which records a redo sends again is read from the emulator's ledger: what was billed, nothing else.
describe('run --redo stale', () => {
  let emulator: RunningEmulator;
  let root: string;
  let configPath: string;
  let chains: string[][];
  let config: LoadedConfig;

  const billedKeys = (from: number) =>
    emulator.ledger
      .entries()
      .slice(from)
      .map((entry) => entry.key);
  const output = (id: string) =>
    JSON.parse(readFileSync(join(root, 'out', `${id}.json`), 'utf8')) as OutputFile;

  async function run(redo: boolean, at: LoadedConfig = config): Promise<void> {
    const session = await openWorkloadSession(at, redo ? { redo: 'stale' } : {});
    try {
      await session.runner.run();
    } finally {
      await session.close();
    }
  }

  async function stale(at: LoadedConfig = config) {
    const service = WorkloadService.open(at);
    try {
      return await service.staleOutputs();
    } finally {
      await service.close();
    }
  }

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 61 });
    const workload = writeCatalogWorkload({
      books: 3,
      pages: 2,
      extraYaml: `api:\n  base_url: ${emulator.url}`,
    });
    ({ root, configPath, chains } = workload);
    config = await emulatedConfig(configPath, emulator);
    await run(false);
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('records the model, the template and the input content hash with every output', async () => {
    const meta = output(chains[0]?.[0] as string).meta;
    expect(meta.model).toBe('gemini-2.5-flash');
    expect(meta.prompt.template).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.source?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await stale()).toEqual({
      checked: 6,
      stale: 0,
      byReason: { prompt: 0, model: 0, input: 0 },
      inputUnknown: 0,
    });
  });

  it('redoes exactly the record whose input changed, and only when asked', async () => {
    const changed = chains[1]?.[1] as string;
    const before = output(changed).meta.source?.hash;
    writeFileSync(join(root, 'dataset', `${changed}.txt`), 'School 2, page 2 (rescanned): Latin 299.\n');
    expect((await stale()).byReason).toEqual({ prompt: 0, model: 0, input: 1 });

    const billed = emulator.ledger.entries().length;
    await run(false);
    expect(billedKeys(billed)).toEqual([]);

    await run(true);
    expect(billedKeys(billed)).toEqual([changed]);
    expect(output(changed).meta.source?.hash).not.toBe(before);
    expect((await stale()).stale).toBe(0);

    const service = WorkloadService.open(config);
    const history = await service.events({ recordId: changed, kind: 'record' });
    await service.close();
    expect(history.map((event) => [event.type, event.cause])).toEqual([['redo', 'input']]);
  });

  it('counts outputs of another model without touching them', async () => {
    const other = { ...config, model: { ...config.model, name: 'gemini-2.5-flash-lite' } };
    expect(await stale(other)).toMatchObject({ stale: 6, byReason: { model: 6, prompt: 0, input: 0 } });
  });

  it('redoes every record after a prompt version change, through the CLI, chains in order', async () => {
    writeFileSync(
      join(root, 'prompts', 'page', 'v2.jinja'),
      'Transcribe page {{ record.page }} of {{ record.school }}, every course.\n{% if context %}Carried over: {{ context }}{% endif %}\n',
    );
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('version: v1', 'version: v2'));
    const statusJson = async (...flags: string[]) => {
      const shown = await runCli(['status', '-c', configPath, '--json', ...flags]);
      expect(shown.code).toBe(0);
      return (JSON.parse(shown.stdout) as { staleOutputs: number | null }).staleOutputs;
    };
    // Counting reads every output, so status does it only when asked.
    expect(await statusJson()).toBeNull();
    expect(await statusJson('--stale')).toBe(6);
    const human = await runCli(['status', '-c', configPath, '--stale']);
    expect(human.stdout).toMatch(/stale\s+6 outputs made by another prompt, model or input/);
    const billed = emulator.ledger.entries().length;
    const result = await runCli(['run', '-c', configPath, '--redo', 'stale'], {
      env: { GEMINI_API_KEY: 'redo-test-key' },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('redo: 6 stale outputs queued again (prompt 6)');
    const keys = billedKeys(billed);
    expect([...keys].sort()).toEqual(chains.flat().sort());
    for (const chain of chains)
      expect(keys.indexOf(chain[0] as string)).toBeLessThan(keys.indexOf(chain[1] as string));
    for (const id of chains.flat()) expect(output(id).meta.prompt.version).toBe('v2');
  });
});

describe('run --redo stale with JSONL output shards', () => {
  it('redoes exactly the changed record; its new line is the one read back', async () => {
    const emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 62 });
    const workload = writeCatalogWorkload({ books: 2, pages: 2, sink: 'jsonl' });
    try {
      const config = await emulatedConfig(workload.configPath, emulator);
      const run = async (redo: boolean) => {
        const session = await openWorkloadSession(config, redo ? { redo: 'stale' } : {});
        await session.runner.run();
        await session.close();
      };
      await run(false);
      const changed = workload.chains[0]?.[1] as string;
      writeFileSync(join(workload.root, 'dataset', `${changed}.txt`), 'School 1, page 2, corrected.\n');
      const billed = emulator.ledger.entries().length;
      await run(true);
      expect(
        emulator.ledger
          .entries()
          .slice(billed)
          .map((entry) => entry.key),
      ).toEqual([changed]);
      const service = WorkloadService.open(config);
      const counts = await service.staleOutputs();
      const detail = await service.record(changed);
      await service.close();
      expect(counts).toMatchObject({ checked: 4, stale: 0 });
      expect(detail?.output?.meta.attempt).toBe(0);
      expect(detail?.events.filter((event) => event.kind === 'attempt')).toHaveLength(2);
    } finally {
      await emulator.close();
      rmSync(workload.root, { recursive: true, force: true });
    }
  });
});
