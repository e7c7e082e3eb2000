import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { WorkloadService } from '../../src/service/index.js';
import { writeCatalogWorkload } from '../fixtures/catalog-workload.js';
import { emulatedConfig, openEmulatedSession } from '../fixtures/session.js';

async function collect(
  write: (out: PassThrough) => Promise<number>,
): Promise<{ count: number; text: string }> {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const count = await write(out);
  out.end();
  return { count, text };
}

// The service reads what a real run left behind: the state store and the output files.
describe('WorkloadService over a finished run', () => {
  let emulator: RunningEmulator;
  let root: string;
  let service: WorkloadService;
  let chains: string[][];
  let doomed: string;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 3600, turnaroundMs: 20_000, seed: 5 });
    const workload = writeCatalogWorkload({ books: 2, pages: 3, execution: { max_retries: 1 } });
    root = workload.root;
    chains = workload.chains;
    doomed = chains[1]?.[1] as string;
    emulator.setFaults({ byKey: { [doomed]: ['safety', 'safety'] } });
    const { session } = await openEmulatedSession(workload.configPath, emulator);
    await session.runner.run();
    await session.close();
    service = WorkloadService.open(await emulatedConfig(workload.configPath, emulator));
  });

  afterAll(async () => {
    await service.close();
    await emulator.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("shows a done record's jobs and the output file on disk", async () => {
    const id = chains[0]?.[2] as string;
    const detail = await service.record(id);
    expect(detail?.record.status).toBe('done');
    const onDisk = JSON.parse(readFileSync(join(root, 'out', `${id}.json`), 'utf8')) as unknown;
    expect(detail?.output).toEqual(onDisk);
    expect(detail?.failures).toEqual([]);
    const billed = emulator.ledger.entries().filter((entry) => entry.key === id);
    expect(detail?.attempts.map((attempt) => attempt.remoteName)).toEqual(billed.map((e) => e.batchName));
    expect(detail?.attempts[0]?.jobState).toBe('processed');
  });

  it('shows a dead letter with both attempts, both failures and no output', async () => {
    const detail = await service.record(doomed);
    expect(detail?.record.status).toBe('dead');
    expect(detail?.output).toBeNull();
    expect(detail?.attempts.map((attempt) => attempt.attempt)).toEqual([0, 1]);
    expect(detail?.failures.map((failure) => [failure.cause, failure.final])).toEqual([
      ['safety', false],
      ['safety', true],
    ]);
    expect(await service.record('no/such/record')).toBeNull();
  });

  it('lists records by status and by chain, in id order, with keyset paging', async () => {
    expect((await service.records({ status: 'dead' })).map((record) => record.id)).toEqual([doomed]);
    expect((await service.records({ status: 'blocked' })).map((record) => record.id)).toEqual([
      chains[1]?.[2],
    ]);
    const chain = chains[0] as string[];
    const firstChain = chain[0]?.split('/').slice(0, -1).join('/') as string;
    const all = await service.records({ chainId: firstChain });
    expect(all.map((record) => record.id)).toEqual(chain);
    const page = await service.records({ chainId: firstChain, afterId: chain[0], limit: 1 });
    expect(page.map((record) => record.id)).toEqual([chain[1]]);
  });

  it('lists one job per batch the emulator billed', async () => {
    const jobs = await service.jobs();
    const billedBatches = new Set(emulator.ledger.entries().map((entry) => entry.batchName));
    // Jobs whose every request failed are not billed, so the store may know more jobs than the ledger.
    for (const batch of billedBatches) expect(jobs.map((job) => job.remoteName)).toContain(batch);
    expect(await service.jobs(['pending', 'running'])).toEqual([]);
  });

  it('exports failures as JSON Lines and CSV, filtered like the listing', async () => {
    const jsonl = await collect((out) => service.exportFailures('jsonl', out, { deadOnly: true }));
    expect(jsonl.count).toBe(1);
    expect(JSON.parse(jsonl.text.trim())).toMatchObject({ recordId: doomed, cause: 'safety', final: true });
    const csv = await collect((out) => service.exportFailures('csv', out));
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe(
      'at,recordId,jobId,attempt,cause,final,message,promptName,promptVersion,promptHash,raw,requestId',
    );
    expect(lines).toHaveLength(3);
  });

  it('requeues only dead letters it knows, then none is left', async () => {
    await expect(service.requeue(['no/such/record', doomed])).rejects.toThrow(
      'unknown record ids: no/such/record',
    );
    expect((await service.record(doomed))?.record).toMatchObject({ status: 'dead' });
    expect(await service.requeue()).toBe(1);
    expect((await service.record(doomed))?.record).toMatchObject({ status: 'ready', attempts: 0 });
    expect(await service.failures({ deadOnly: true })).toEqual([]);
  });
});
