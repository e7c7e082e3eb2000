import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WavebatchError, type CancelOutcome } from '../../src/index.js';
import { ask, batchJobWorld, MODEL, type BatchJobWorld } from './batch-job-fixture.js';

// `wavebatch cancel` asked and read back in the command itself: the service returns what became
// of each job, and bills nothing for a job cancelled before it ran.
describe('BatchJobService.cancel', () => {
  let world: BatchJobWorld;
  beforeEach(async () => {
    world = await batchJobWorld('service-cancel-key');
  });
  afterEach(async () => {
    await world.emulator.close();
  });

  it('cancels a pending job, leaves an ended one as it is, and tells each as it goes', async () => {
    const { service, emulator } = world;
    const done = await service.submit({ model: MODEL, requests: [ask('a')] });
    world.advance(120_000);
    await world.ended(done.name);
    const pending = await service.submit({ model: MODEL, requests: [ask('b')] });
    const heard: CancelOutcome[] = [];
    const outcomes = await service.cancel([pending.name, done.name.slice('batches/'.length)], {
      onCancelled: (outcome) => heard.push(outcome),
    });
    expect(outcomes).toEqual([
      { name: pending.name, kind: 'cancelled' },
      { name: done.name, kind: 'already-ended', state: 'succeeded' },
    ]);
    expect(heard).toEqual(outcomes);
    world.advance(600_000);
    expect((await service.status(pending.name)).state).toBe('cancelled');
    // Only the job that ran is billed.
    expect(emulator.ledger.entries().map((entry) => entry.batchName)).toEqual([done.name]);
  });

  it('stops at a job the project lacks (INPUT_JOB_NOT_FOUND), having cancelled those before it', async () => {
    const { service } = world;
    const job = await service.submit({ model: MODEL, requests: [ask('a')] });
    const heard: CancelOutcome[] = [];
    const refused = await service
      .cancel([job.name, 'batches/nope'], { onCancelled: (outcome) => heard.push(outcome) })
      .catch((error: unknown) => error);
    expect(WavebatchError.isInstance(refused) && refused.code).toBe('INPUT_JOB_NOT_FOUND');
    expect(heard).toEqual([{ name: job.name, kind: 'cancelled' }]);
    const malformed = await service.cancel(['batches/../x']).catch((error: unknown) => error);
    expect(WavebatchError.isInstance(malformed) && malformed.code).toBe('INPUT_INVALID');
  });
});
