/**
 * wavebatch as a library. The usual entry points:
 * - `defineWorkload` / `loadConfig` to describe a workload,
 * - `runWorkload` to run it (a path, a definition or a loaded config) until it is finished or its
 *   signal aborts (or `openWorkloadSession` for finer control),
 * - `WorkloadService` to read and maintain a workload's state (status, records, failures, requeue),
 * - `BatchJobService` (with `createGeminiClient`) for one-off batch jobs, no workload: submit, list,
 *   status, fetch, cancel (`submitJob` is its submission alone),
 * - `startEmulator` for a local Gemini API in tests.
 */
import type { WorkloadConfigInput } from './config/index.js';
import type { StopOptions } from './runner/batch-runner.js';
import type { RunSummary } from './runner/run-summary.js';
import { openWorkloadSession, type WorkloadSessionOptions } from './runner/workload-session.js';

export { VERSION } from './package-manifest.js';
export { WavebatchError } from './errors.js';
export type { ErrorCategory } from './errors.js';
export { defineWorkload, loadConfig } from './config/index.js';
export type { LoadedConfig, WorkloadConfigInput, WorkloadDefinition } from './config/index.js';
export type { WorkloadRecord, SourceRecord, MediaInput, RecordVars } from './workload/record.js';
export { openSource } from './workload/index.js';
export { loadPrompt } from './prompts/index.js';
export type { PromptTemplate, PromptVariables, RenderedPrompt } from './prompts/template.js';
export type { FreeName } from './prompts/free-names.js';
export { createGeminiClient } from './gemini/index.js';
export type { GeminiClient, GeminiClientOptions, BatchJobInfo } from './gemini/index.js';
export {
  BatchJobService,
  JobOutcomeUnknownError,
  JobRequests,
  OneoffInputError,
  OneoffJobNotFoundError,
  readJobRequests,
  submitJob,
} from './service/batch-jobs/index.js';
export type {
  BatchJobSummary,
  CancelOutcome,
  FetchOptions,
  FetchOutcome,
  KeyedRequest,
  PendingResults,
  SubmitJobOptions,
  SubmitRequest,
  SubmitRequestBody,
} from './service/batch-jobs/index.js';
export { OutputStore } from './outputs/index.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export type { WorkloadStore, RecordCounts, FailureRow, JobRow } from './store/store.js';
export { WorkloadService } from './service/index.js';
export type { RecordDetail, WorkloadServiceOptions } from './service/index.js';
export { BatchRunner } from './runner/batch-runner.js';
export type { StopOptions } from './runner/batch-runner.js';
export type { RunSummary } from './runner/run-summary.js';
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
export type { EmulatorOptions, HeldFile, RetryDelayPrecision, RunningEmulator } from './emulator/index.js';

// Types the signatures above use (their options, results, events and filters), so that a program
// can name them: every type in an exported function's or class's public signature is importable here.
export type { RunnerClock } from './clock.js';
export type {
  AssembleConfig,
  DirectorySourceConfig,
  ExecutionConfig,
  ExecutionModeConfig,
  FunctionSourceConfig,
  LevelRange,
  SourceConfig,
  TableSourceConfig,
} from './config/types.js';
export type { CallKind, FaultPlan, HttpFault, JobFault } from './emulator/fault-plan.js';
export type { Ledger, LedgerEntry } from './emulator/ledger.js';
export type { RecordFault } from './emulator/model/faults.js';
export type { ModelCall, Responder } from './emulator/model/index.js';
export type { FileResolver } from './emulator/model/tokens.js';
export type { WireGenerateRequest } from './emulator/model/wire-request.js';
export type { EmulatorQuotas } from './emulator/options.js';
export type { QuotaOverrides, QuotaValues } from './emulator/model-quotas.js';
export type { RealtimeLimits } from './emulator/realtime-limiter.js';
export type { TierOptions, TierQuotas } from './emulator/service-tiers.js';
export type { TurnaroundRange } from './emulator/turnaround.js';
export type { BatchJobState, InlinedResult } from './gemini/batch-job.js';
export type { BatchSource, CreateBatchInput, GenerateOptions, RemoteFile } from './gemini/client.js';
export type { ModelRequest } from './gemini/request.js';
export type { StallAction, StallPolicy } from './lanes/batch/stall-policy.js';
export type { SyncLane } from './lanes/lane.js';
export type { ExportFormat } from './outputs/export.js';
export type { OutputDocument, OutputMeta, OutputStoreOptions } from './outputs/output-store.js';
export type {
  CommittedOutput,
  GroupWrite,
  OutputLocation,
  OutputRecovery,
  OutputSink,
  OutputSinkKind,
  ShardCommit,
} from './outputs/sink.js';
export type { StaleOutputCounts, StaleReason } from './outputs/staleness.js';
export type { LimitOverrides, PriceOverrides } from './pricing/overrides.js';
export type {
  ModelPrices,
  RequestLimits,
  TokenRates,
  UsageTier,
  UsageTierLimits,
} from './pricing/price-list.js';
export type { RetryPolicy } from './retry.js';
export type { RunnerEventListener } from './runner/events.js';
export type { LaneFigures } from './runner/lane-tally.js';
export type { RunnerSettings } from './runner/settings.js';
export type { BatchOnlyComparison } from './scheduler/batch-only-comparison.js';
export type { DecisionReason, ExecutionMode } from './scheduler/lane-policy.js';
export type { Projection } from './scheduler/projection.js';
export type { ChainRecords } from './service/chain-export.js';
export type { EstimateOptions, LaneEstimate, TokenSource, WorkloadEstimate } from './service/estimate.js';
export type { FailureExportFormat } from './service/failure-export.js';
export type { FieldCondition, RecordSelection, SelectionPlan, WaitingRecord } from './service/selection.js';
export type { ActiveJobStatus, WorkloadStatus } from './service/status.js';
export type { WorkloadJob } from './service/workload-service.js';
export type {
  EventFilter,
  EventKind,
  InferenceEvent,
  RunOutcome,
  RunRow,
  RunTotals,
  RunUsage,
  StoredEvent,
  StoredText,
} from './store/event-log.js';
export type {
  FailureFilter,
  FailureInput,
  JobState,
  LeaseHolder,
  RecordAttempt,
  RecordFilter,
  RecordStatus,
  StoredRecord,
} from './store/store.js';
export type { TelemetrySink } from './telemetry/run-telemetry.js';
export type { ExportDelivery } from './telemetry/export-delivery.js';
export type { OpenTelemetryDelivery, SignalDelivery } from './telemetry/otel-delivery.js';
export type { ExportWatermarks, WatermarkOf } from './store/export-watermarks.js';
export type { RunTraces, TracedJob, TracedJobEvent, TracedRun } from './store/run-traces.js';
export { DerivedIdGenerator } from './telemetry/span-ids.js';
export { NodeVersionError } from './node-version.js';
export { MissingApiKeyError } from './runner/workload-session.js';
export { ConfigNotLoadedError } from './service/errors.js';
export { EmulatorListenError } from './emulator/server.js';
// Every error class a program may meet through the exports above, with its codes' type, so that a
// program can catch by class (`instanceof`, or `isInstance` across module copies) as well as by `code`.
export { ConfigError } from './config/config-error.js';
export type { ConfigErrorCode, ConfigIssue } from './config/config-error.js';
export { SchemaError } from './results/validator.js';
export { NoBatchQuotaError } from './pricing/batch-caps.js';
export { SourceError, RecordIdError } from './workload/errors.js';
export type { SourceErrorCode } from './workload/errors.js';
export { LineReadError } from './jsonl/errors.js';
export type { LineReadErrorCode } from './jsonl/errors.js';
export { PromptError } from './prompts/errors.js';
export type { PromptErrorCode } from './prompts/errors.js';
export { GeminiApiError } from './gemini/errors.js';
export { ClientApiKeyError } from './gemini/sdk-client.js';
export type { GeminiErrorCode, QuotaViolation } from './gemini/errors.js';
export { StoreError } from './store/errors.js';
export {
  OutputCorruptError,
  OutputPathClashError,
  OutputPathError,
  OutputSinkChangedError,
  ShardCorruptError,
} from './outputs/errors.js';
export { SelectionError } from './service/selection.js';
export { RequeueIdsError } from './service/workload-service.js';
export { ExportTargetError } from './service/errors.js';
export { HeapSettingError } from './runner/heap-growth.js';
export { EmulatorOptionError } from './emulator/options.js';
export { FaultPlanError } from './emulator/fault-plan.js';

/**
 * Runs a workload (a config file path, a `defineWorkload` definition or a loaded config) until it is
 * finished or `signal` aborts (then within `stopGraceMs`, or at once when `stopNow` aborts).
 */
export async function runWorkload(
  config: WorkloadConfigInput,
  options: WorkloadSessionOptions & StopOptions & { signal?: AbortSignal } = {},
): Promise<RunSummary> {
  const session = await openWorkloadSession(config, options);
  try {
    return await session.runner.run(options.signal, options);
  } finally {
    await session.close();
  }
}
