import type { BatchJob } from './batch-jobs.js';
import { timestamp } from './clock.js';

const BATCH_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';

/**
 * A job as the long-running Operation Google returns from create, get and list:
 * `{name, metadata: {@type, model, displayName, state, times, batchStats, output}, done, response | error}`.
 * List items (`view: 'list'`) carry no output: Google's list omits it (python-genai#1323; the
 * cookbook tells callers to `get` a job for its inline results).
 */
export function operationJson(job: BatchJob, view: 'get' | 'list' = 'get'): Record<string, unknown> {
  const done = job.state !== 'PENDING' && job.state !== 'RUNNING';
  const output = job.state === 'SUCCEEDED' && view === 'get' ? job.result?.output : undefined;
  const metadata: Record<string, unknown> = {
    '@type': BATCH_TYPE,
    model: `models/${job.model}`,
    // proto3 JSON leaves out an empty string, as it leaves out a zero count: no name, no field.
    ...(job.displayName !== '' ? { displayName: job.displayName } : {}),
    ...(job.source.kind === 'file' ? { inputConfig: { fileName: job.source.fileName } } : {}),
    ...(output ? { output } : {}),
    createTime: timestamp(job.createTime),
    updateTime: timestamp(job.updateTime),
    ...(job.endTime !== undefined ? { endTime: timestamp(job.endTime) } : {}),
    batchStats: batchStats(job),
    state: `BATCH_STATE_${job.state}`,
    name: job.name,
  };
  return {
    name: job.name,
    metadata,
    ...(done ? { done: true } : {}),
    ...(output ? { response: { '@type': OUTPUT_TYPE, ...output } } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}

/** int64 counts travel as strings in proto JSON, and zero counts are omitted. */
function batchStats(job: BatchJob): Record<string, string> {
  const processed = job.result;
  const succeeded = processed?.succeeded ?? 0;
  const failed = processed?.failed ?? 0;
  const pending = job.state === 'PENDING' || job.state === 'RUNNING' ? job.requestCount : 0;
  const stats: Record<string, string> = { requestCount: String(job.requestCount) };
  if (succeeded > 0) stats.successfulRequestCount = String(succeeded);
  if (failed > 0) stats.failedRequestCount = String(failed);
  if (pending > 0) stats.pendingRequestCount = String(pending);
  return stats;
}
