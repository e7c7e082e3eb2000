import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WavebatchError, type FetchOutcome } from '../../src/index.js';
import { ask, batchJobWorld, MODEL, type BatchJobWorld } from './batch-job-fixture.js';

const QUOTED_KEY = `AIza${'Fe9'.repeat(12).slice(0, 35)}`;

/** The keys of a results file, sorted. */
async function keysIn(path: string): Promise<string[]> {
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  return lines.map((line) => (JSON.parse(line) as { key: string }).key).sort();
}

// `wavebatch fetch` downloaded and reported in the command itself: the service writes the results
// and returns what became of each job, to the command and to an HTTP API alike.
describe('BatchJobService.fetch and fetchAllPending', () => {
  let world: BatchJobWorld;
  let out: string;

  beforeEach(async () => {
    world = await batchJobWorld('service-fetch-key');
    out = await mkdtemp(join(tmpdir(), 'wb-service-fetch-'));
  });
  afterEach(async () => {
    await world.emulator.close();
    await rm(out, { recursive: true, force: true });
  });

  it('writes inline and uploaded results, says which are not ready, and fetches only the new ones', async () => {
    const { service } = world;
    const inline = await service.submit({ model: MODEL, requests: [{ key: 'a', request: ask('a') }] });
    const file = await service.submit({
      model: MODEL,
      requests: [ask('b'), ask('c')],
      transport: 'upload',
    });
    const early = await service.fetch([inline.name], { out });
    expect(early).toEqual([{ name: inline.name, kind: 'not-ready', state: 'pending' }]);
    expect(await readdir(out)).toEqual([]);

    world.advance(120_000);
    await Promise.all([world.ended(inline.name), world.ended(file.name)]);
    const late = await service.submit({ model: MODEL, requests: [ask('d')] });
    const heard: FetchOutcome[] = [];
    const listed: unknown[] = [];
    const all = await service.fetchAllPending({
      out,
      onFetched: (outcome) => heard.push(outcome),
      onListed: (listing) => listed.push(listing),
    });
    const id = (name: string) => name.slice('batches/'.length);
    expect(all).toMatchObject({ skipped: [], waiting: 1, fetched: heard });
    expect(listed).toEqual([{ jobs: all.jobs, skipped: [], waiting: 1 }]);
    expect([...all.jobs].sort()).toEqual([inline.name, file.name].sort());
    expect(heard).toContainEqual({
      name: inline.name,
      kind: 'written',
      path: join(out, `${id(inline.name)}.jsonl`),
      from: 'inline',
      results: 1,
      failed: 0,
    });
    expect(heard).toContainEqual({
      name: file.name,
      kind: 'written',
      path: join(out, `${id(file.name)}.jsonl`),
      from: 'file',
      results: 2,
      failed: 0,
    });
    expect(await keysIn(join(out, `${id(inline.name)}.jsonl`))).toEqual(['a']);
    expect(await keysIn(join(out, `${id(file.name)}.jsonl`))).toEqual(['request-1', 'request-2']);
    expect(await service.fetchAllPending({ out })).toEqual({
      jobs: [],
      skipped: [],
      waiting: 1,
      fetched: [],
    });
    expect(late.state).toBe('pending');
  });

  it('reports a job that ended without results with its message redacted, and nothing written', async () => {
    const { service, emulator } = world;
    emulator.setFaults({ jobRates: { failed: 1 }, jobFailureMessage: `call with key=${QUOTED_KEY} failed` });
    const job = await service.submit({ model: MODEL, requests: [ask('a')] });
    world.advance(120_000);
    await world.ended(job.name);
    const [ended] = await service.fetch([job.name], { out });
    expect(ended).toMatchObject({ name: job.name, kind: 'ended', state: 'failed' });
    expect(ended?.kind === 'ended' && ended.message).toContain('[redacted]');
    expect(JSON.stringify(ended)).not.toContain(QUOTED_KEY);
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses an unknown job and an unwritable folder with their stable codes', async () => {
    const { service } = world;
    const missing = await service.fetch(['batches/nope'], { out }).catch((error: unknown) => error);
    expect(WavebatchError.isInstance(missing) && missing.code).toBe('INPUT_JOB_NOT_FOUND');
    const blocker = join(out, 'a-file');
    await writeFile(blocker, 'in the way');
    const unwritable = await service
      .fetch(['batches/nope'], { out: join(blocker, 'results') })
      .catch((error: unknown) => error);
    // The folder is checked before the job is asked for: not INPUT_JOB_NOT_FOUND.
    expect(WavebatchError.isInstance(unwritable) && unwritable.code).toBe('INPUT_PATH_UNWRITABLE');
  });
});
