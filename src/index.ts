/**
 * wavebatch as a library. The usual entry points:
 * - `defineWorkload` / `loadConfig` to describe a workload,
 * - `runWorkload` to run it to completion (or `openWorkloadSession` for finer control),
 * - `WorkloadService` to read and maintain a workload's state (status, records, failures, requeue),
 * - `startEmulator` for a local Gemini API in tests.
 */
import { loadConfig, type LoadedConfig } from './config/index.js';
import type { RunSummary } from './runner/batch-runner.js';
import { openWorkloadSession, type WorkloadSessionOptions } from './runner/workload-session.js';

export { WavebatchError } from './errors.js';
export type { ErrorCategory } from './errors.js';
export { defineWorkload, loadConfig } from './config/index.js';
export type { LoadedConfig } from './config/index.js';
export type { WorkloadRecord, SourceRecord, MediaInput, RecordVars } from './workload/record.js';
export { openSource } from './workload/index.js';
export { loadPrompt } from './prompts/index.js';
export { createGeminiClient } from './gemini/index.js';
export type { GeminiClient, BatchJobInfo } from './gemini/index.js';
export { OutputStore } from './outputs/index.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export type { WorkloadStore, RecordCounts, FailureRow, JobRow } from './store/store.js';
export { WorkloadService } from './service/index.js';
export type { RecordDetail, WorkloadServiceOptions } from './service/index.js';
export { BatchRunner } from './runner/batch-runner.js';
export type { RunSummary } from './runner/batch-runner.js';
export type { RunnerEvent } from './runner/events.js';
export { ApiUnreachableError } from './runner/connection-watch.js';
export { RunLockedError, LeaseLostError } from './store/lease.js';
export { openWorkloadSession } from './runner/workload-session.js';
export type { WorkloadSession, WorkloadSessionOptions } from './runner/workload-session.js';
export { limitHeapGrowth, HEAP_GROWING_PERCENT } from './runner/heap-growth.js';
export { startEmulator } from './emulator/index.js';
export { GEMINI_PRICE_LIST, configuredPriceList, costOf, modelLimits, modelPrices } from './pricing/index.js';
export type { PriceList, LanePrice, ModelLimits, BilledTokens } from './pricing/index.js';
export type { Lane } from './lanes/lane.js';
export type { EmulatorOptions, RunningEmulator } from './emulator/index.js';

/** Runs a workload (a config file path or a loaded config) until it is finished or `signal` aborts. */
export async function runWorkload(
  config: string | LoadedConfig,
  options: WorkloadSessionOptions & { signal?: AbortSignal } = {},
): Promise<RunSummary> {
  const loaded = typeof config === 'string' ? await loadConfig(config) : config;
  const session = await openWorkloadSession(loaded, options);
  try {
    return await session.runner.run(options.signal);
  } finally {
    await session.close();
  }
}
