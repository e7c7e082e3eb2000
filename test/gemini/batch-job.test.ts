import { describe, expect, it } from 'vitest';
import { batchStateOf, fromSdkBatchJob, fromWireBatch } from '../../src/gemini/batch-job.js';
import { JobState } from '@google/genai';

describe('batch job mapping', () => {
  it('maps SDK and wire states, and unknown ones to unknown', () => {
    expect(batchStateOf(JobState.JOB_STATE_SUCCEEDED)).toBe('succeeded');
    expect(batchStateOf('BATCH_STATE_RUNNING')).toBe('running');
    expect(batchStateOf('BATCH_STATE_EXPIRED')).toBe('expired');
    expect(batchStateOf('JOB_STATE_CANCELLED')).toBe('cancelled');
    expect(batchStateOf('BATCH_STATE_UNSPECIFIED')).toBe('unknown');
    expect(batchStateOf(undefined)).toBe('unknown');
  });

  it('reads a finished wire operation: results file, stats, error', () => {
    const info = fromWireBatch({
      name: 'batches/abc',
      metadata: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
        displayName: 'wb-x-1',
        model: 'models/gemini-2.5-flash',
        state: 'BATCH_STATE_SUCCEEDED',
        createTime: '2025-01-01T00:00:00Z',
        batchStats: { requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' },
        output: { responsesFile: 'files/out-1' },
      },
      done: true,
    });
    expect(info).toEqual({
      name: 'batches/abc',
      displayName: 'wb-x-1',
      model: 'models/gemini-2.5-flash',
      state: 'succeeded',
      createTime: '2025-01-01T00:00:00Z',
      resultsFileName: 'files/out-1',
      stats: { requestCount: 3, successfulRequestCount: 2, failedRequestCount: 1 },
    });
  });

  it('reads the input file of a job made from one (the SDK drops it): a one-off submit finds its job by it', () => {
    const info = fromWireBatch({
      name: 'batches/in',
      metadata: { state: 'BATCH_STATE_PENDING', inputConfig: { fileName: 'files/input-1' } },
    });
    expect(info).toEqual({ name: 'batches/in', state: 'pending', inputFileName: 'files/input-1' });
  });

  it('reads inline responses with their keys from either output location', () => {
    const info = fromWireBatch({
      name: 'batches/i',
      metadata: { state: 'BATCH_STATE_FAILED' },
      error: { code: 13, message: 'backend failed' },
      response: {
        inlinedResponses: {
          inlinedResponses: [
            { metadata: { key: 'b' }, response: { candidates: [] } },
            { metadata: { key: 'a' }, error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } },
            { response: { candidates: [] } },
          ],
        },
      },
    });
    expect(info.state).toBe('failed');
    expect(info.error).toEqual({ code: 13, message: 'backend failed' });
    expect(info.inlinedResponses).toEqual([
      { key: 'b', response: { candidates: [] } },
      { key: 'a', error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } },
      { response: { candidates: [] } },
    ]);
  });

  it('keeps the details of a per-request error, in wire and SDK results', () => {
    const details = [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field: 'contents', description: 'empty' }],
      },
    ];
    const error = { code: 400, message: 'bad', status: 'INVALID_ARGUMENT', details };
    const wire = fromWireBatch({
      name: 'batches/d',
      metadata: {
        state: 'BATCH_STATE_SUCCEEDED',
        output: { inlinedResponses: { inlinedResponses: [{ metadata: { key: 'a' }, error }] } },
      },
    });
    expect(wire.inlinedResponses).toEqual([{ key: 'a', error }]);
    // The SDK types details as string[]; on the wire they are google.rpc detail objects.
    const sdk = fromSdkBatchJob({
      name: 'batches/d',
      dest: { inlinedResponses: [{ metadata: { key: 'a' }, error: error as never }] },
    });
    expect(sdk.inlinedResponses).toEqual([{ key: 'a', error }]);
  });

  it('reads the SDK BatchJob returned by create and list', () => {
    expect(
      fromSdkBatchJob({
        name: 'batches/s',
        displayName: 'd',
        state: JobState.JOB_STATE_PENDING,
        dest: { inlinedResponses: [{ metadata: { key: 'k' }, response: { text: undefined } as never }] },
      }),
    ).toMatchObject({
      name: 'batches/s',
      displayName: 'd',
      state: 'pending',
      inlinedResponses: [{ key: 'k' }],
    });
  });
});
