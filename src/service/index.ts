/**
 * The service layer: one object per workload (`WorkloadService`) that every user-facing surface
 * calls — the CLI commands today, the HTTP API and the dashboard next — so what a command shows and
 * what a route returns are computed once.
 */
export {
  WorkloadService,
  type RecordDetail,
  type WorkloadJob,
  type WorkloadServiceOptions,
} from './workload-service.js';
export { FAILURE_CSV_COLUMNS, type FailureExportFormat } from './failure-export.js';
export {
  BATCH_TARGET_TURNAROUND_MS,
  summarizeStatus,
  type ActiveJobStatus,
  type StatusFacts,
  type WorkloadStatus,
} from './status.js';
export {
  DEFAULT_OUTPUT_TOKENS,
  estimateWorkload,
  type EstimateOptions,
  type LaneEstimate,
  type TokenSource,
  type WorkloadEstimate,
} from './estimate.js';
export {
  parseFieldConditions,
  planSelection,
  scopeOf,
  SelectionError,
  type FieldCondition,
  type RecordSelection,
  type SelectionPlan,
  type WaitingRecord,
} from './selection.js';
export { applySelection, planRunSelection, type SelectionDeps } from './run-selection.js';
export {
  BatchJobService,
  type BatchJobSummary,
  type CancelOutcome,
  type FetchOptions,
  type FetchOutcome,
  type PendingResults,
  OneoffJobNotFoundError,
  type SubmitJobOptions,
  type SubmitRequest,
  type SubmitRequestBody,
} from './batch-jobs/index.js';
