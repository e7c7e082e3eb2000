import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJobRequests, WavebatchError } from '../../src/index.js';
import { ask, batchJobWorld, MODEL, type BatchJobWorld } from './batch-job-fixture.js';

// `wavebatch submit` did its work in the command and in src/oneoff: the service is the one place a
// job is submitted from, for the command, the library and the HTTP API.
describe('BatchJobService.submit', () => {
  let world: BatchJobWorld;
  let dir: string;

  beforeEach(async () => {
    world = await batchJobWorld('service-submit-key');
    dir = await mkdtemp(join(tmpdir(), 'wb-service-submit-'));
  });
  afterEach(async () => {
    await world.emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('submits requests read first (as the command does) by upload, billed once each under its key', async () => {
    const { service, emulator } = world;
    const file = join(dir, 'nightly.jsonl');
    await writeFile(
      file,
      [ask('one'), ask('two')].map((request, i) => `${JSON.stringify({ key: `k${i}`, request })}\n`).join(''),
    );
    const requests = await readJobRequests(file);
    const job = await service.submit({ model: MODEL, requests, transport: 'upload' });
    expect(job).toMatchObject({ displayName: 'wavebatch-submit-nightly', state: 'pending' });
    world.advance(120_000);
    expect((await world.ended(job.name)).state).toBe('succeeded');
    const billed = emulator.ledger.entries().map((entry) => [entry.batchName, entry.key]);
    expect(billed.sort()).toEqual([
      [job.name, 'k0'],
      [job.name, 'k1'],
    ]);
  });

  it('refuses a malformed request with INPUT_INVALID naming its place, nothing sent', async () => {
    const { service, client, emulator } = world;
    const refused = await service
      .submit({ model: MODEL, requests: [ask('fine'), { contents: [] }] })
      .catch((error: unknown) => error);
    expect(WavebatchError.isInstance(refused) && refused.code).toBe('INPUT_INVALID');
    expect((refused as Error).message).toContain('requests[1]');
    for await (const job of client.listBatches()) expect.unreachable(`nothing sent, yet ${job.name}`);
    expect(emulator.ledger.entries()).toEqual([]);
  });
});
