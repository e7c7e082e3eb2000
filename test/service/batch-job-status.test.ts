import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WavebatchError } from '../../src/index.js';
import { ask, batchJobWorld, MODEL, type BatchJobWorld } from './batch-job-fixture.js';

const QUOTED_KEY = `AIza${'Kp4'.repeat(12).slice(0, 35)}`;

/** The error a call rejects with. */
async function refusal(work: Promise<unknown>): Promise<WavebatchError> {
  const error = await work.then(
    () => expect.unreachable('expected a refusal'),
    (caught: unknown) => caught,
  );
  if (!WavebatchError.isInstance(error)) throw error;
  return error;
}

// `wavebatch jobs` and `status <job>` read the API in the commands themselves: the service returns
// the same summaries (redacted, inline responses counted) to the command and to an HTTP API.
describe('BatchJobService.list and status', () => {
  let world: BatchJobWorld;
  beforeEach(async () => {
    world = await batchJobWorld('service-status-key');
  });
  afterEach(async () => {
    await world.emulator.close();
  });

  it('lists every job or those in one state, and shows one with its inline responses counted', async () => {
    const { service, client } = world;
    const first = await service.submit({ model: MODEL, requests: [ask('a'), ask('b')] });
    const second = await service.submit({ model: MODEL, requests: [ask('c')] });
    await client.cancelBatch(second.name);
    expect((await service.list()).map((job) => job.name)).toEqual([second.name, first.name]);
    expect((await service.list({ state: 'cancelled' })).map((job) => job.name)).toEqual([second.name]);
    expect(await service.list({ state: 'intent' })).toEqual([]);

    world.advance(120_000);
    await world.ended(first.name);
    const shown = await service.status(first.name.slice('batches/'.length));
    expect(shown).toMatchObject({ name: first.name, state: 'succeeded', inlinedResponseCount: 2 });
    expect(shown).not.toHaveProperty('inlinedResponses');
    // A listing carries what the API lists (the SDK's listing has no stats or inline responses).
    const listed = await service.list({ state: 'succeeded' });
    expect(listed).toMatchObject([{ name: first.name, state: 'succeeded' }]);
  });

  it("redacts a key the API quotes back in a job's error message, listed or shown", async () => {
    const { service, emulator } = world;
    emulator.setFaults({
      jobRates: { failed: 1 },
      jobFailureMessage: `request with key=${QUOTED_KEY} failed`,
    });
    const job = await service.submit({ model: MODEL, requests: [ask('a')] });
    world.advance(120_000);
    await world.ended(job.name);
    const shown = await service.status(job.name);
    expect(shown.state).toBe('failed');
    expect(shown.error?.message).toContain('[redacted]');
    expect(JSON.stringify([shown, await service.list()])).not.toContain(QUOTED_KEY);
  });

  it('refuses a malformed name (INPUT_INVALID) and a job the project lacks (INPUT_JOB_NOT_FOUND)', async () => {
    const { service } = world;
    expect(await refusal(service.status('batches/../x'))).toMatchObject({ code: 'INPUT_INVALID' });
    const missing = await refusal(service.status('batches/doesnotexist'));
    expect(missing).toMatchObject({ code: 'INPUT_JOB_NOT_FOUND', category: 'input' });
    expect(missing.message).toContain('No batch job batches/doesnotexist in this project');
  });
});
