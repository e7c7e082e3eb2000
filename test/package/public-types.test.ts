import { describe, expect, it } from 'vitest';
// Type-checked by the repo's typecheck (tsc -p tsconfig.json covers test/): each name below must be
// importable from the package entry, as every type a public signature uses should be.
import {
  ConfigError,
  DerivedIdGenerator,
  EmulatorListenError,
  EmulatorOptionError,
  ExportTargetError,
  FaultPlanError,
  GeminiApiError,
  HeapSettingError,
  LeaseLostError,
  LineReadError,
  loadConfig,
  MissingApiKeyError,
  NoBatchQuotaError,
  NodeVersionError,
  OutputCorruptError,
  OutputPathClashError,
  OutputPathError,
  OutputSinkChangedError,
  PromptError,
  RecordIdError,
  RequeueIdsError,
  RunLockedError,
  SchemaError,
  SelectionError,
  ShardCorruptError,
  SourceError,
  startEmulator,
  StoreError,
  WavebatchError,
  type ConfigErrorCode,
  type ConfigIssue,
  type GeminiErrorCode,
  type LineReadErrorCode,
  type PromptErrorCode,
  type SourceErrorCode,
  type ActiveJobStatus,
  type AssembleConfig,
  type BatchJobInfo,
  type BatchJobState,
  type BatchOnlyComparison,
  type BatchSource,
  type BilledTokens,
  type CallKind,
  type ChainRecords,
  type CommittedOutput,
  type CreateBatchInput,
  type DirectorySourceConfig,
  type EmulatorOptions,
  type EmulatorQuotas,
  type ErrorCategory,
  type EstimateOptions,
  type EventFilter,
  type EventKind,
  type ExecutionConfig,
  type ExecutionMode,
  type ExecutionModeConfig,
  type ExportDelivery,
  type ExportWatermarks,
  type ExportFormat,
  type FailureExportFormat,
  type FailureFilter,
  type FailureInput,
  type FailureRow,
  type FaultPlan,
  type FieldCondition,
  type FileResolver,
  type FunctionSourceConfig,
  type GeminiClient,
  type GenerateOptions,
  type GroupWrite,
  type HttpFault,
  type InferenceEvent,
  type InlinedResult,
  type JobFault,
  type JobRow,
  type JobState,
  type Lane,
  type LaneEstimate,
  type LaneFigures,
  type LanePrice,
  type LeaseHolder,
  type Ledger,
  type LedgerEntry,
  type LevelRange,
  type LimitOverrides,
  type LoadedConfig,
  type MediaInput,
  type ModelCall,
  type ModelLimits,
  type ModelPrices,
  type ModelRequest,
  type OpenTelemetryDelivery,
  type OutputDocument,
  type OutputLocation,
  type OutputMeta,
  type OutputRecovery,
  type OutputSink,
  type OutputSinkKind,
  type OutputStoreOptions,
  type PriceList,
  type PriceOverrides,
  type Projection,
  type RealtimeLimits,
  type RecordAttempt,
  type RecordCounts,
  type RecordDetail,
  type RecordFault,
  type RecordFilter,
  type RecordSelection,
  type RecordStatus,
  type RecordVars,
  type RemoteFile,
  type RequestLimits,
  type Responder,
  type RetryPolicy,
  type RunOutcome,
  type RunRow,
  type RunTraces,
  type RunSummary,
  type RunTotals,
  type RunUsage,
  type RunnerClock,
  type RunnerEvent,
  type RunnerEventListener,
  type RunnerSettings,
  type RunningEmulator,
  type SelectionPlan,
  type SignalDelivery,
  type ShardCommit,
  type SourceConfig,
  type SourceRecord,
  type StaleOutputCounts,
  type StaleReason,
  type StallAction,
  type StallPolicy,
  type StoredEvent,
  type StoredRecord,
  type StoredText,
  type SyncLane,
  type TableSourceConfig,
  type TelemetrySink,
  type TracedJob,
  type TracedJobEvent,
  type TracedRun,
  type TierOptions,
  type TierQuotas,
  type TokenRates,
  type TokenSource,
  type TurnaroundRange,
  type UsageTier,
  type UsageTierLimits,
  type WaitingRecord,
  type WatermarkOf,
  type WireGenerateRequest,
  type WorkloadConfigInput,
  type WorkloadDefinition,
  type WorkloadEstimate,
  type WorkloadJob,
  type WorkloadRecord,
  type WorkloadServiceOptions,
  type WorkloadSession,
  type WorkloadSessionOptions,
  type WorkloadStatus,
  type WorkloadStore,
} from '../../src/index.js';

/** One property per imported type, so that a name the entry stops exporting fails the typecheck. */
export interface PublicTypes {
  errorCodes: [ConfigErrorCode, GeminiErrorCode, LineReadErrorCode, PromptErrorCode, SourceErrorCode];
  activeJobStatus: ActiveJobStatus;
  assembleConfig: AssembleConfig;
  batchJobInfo: BatchJobInfo;
  batchJobState: BatchJobState;
  batchOnlyComparison: BatchOnlyComparison;
  batchSource: BatchSource;
  billedTokens: BilledTokens;
  callKind: CallKind;
  chainRecords: ChainRecords;
  committedOutput: CommittedOutput;
  createBatchInput: CreateBatchInput;
  directorySourceConfig: DirectorySourceConfig;
  emulatorOptions: EmulatorOptions;
  emulatorQuotas: EmulatorQuotas;
  errorCategory: ErrorCategory;
  estimateOptions: EstimateOptions;
  eventFilter: EventFilter;
  eventKind: EventKind;
  executionConfig: ExecutionConfig;
  executionMode: ExecutionMode;
  executionModeConfig: ExecutionModeConfig;
  exportDelivery: ExportDelivery;
  exportWatermarks: ExportWatermarks;
  exportFormat: ExportFormat;
  failureExportFormat: FailureExportFormat;
  failureFilter: FailureFilter;
  failureInput: FailureInput;
  failureRow: FailureRow;
  faultPlan: FaultPlan;
  fieldCondition: FieldCondition;
  fileResolver: FileResolver;
  functionSourceConfig: FunctionSourceConfig;
  geminiClient: GeminiClient;
  generateOptions: GenerateOptions;
  groupWrite: GroupWrite;
  httpFault: HttpFault;
  inferenceEvent: InferenceEvent;
  inlinedResult: InlinedResult;
  jobFault: JobFault;
  jobRow: JobRow;
  jobState: JobState;
  lane: Lane;
  laneEstimate: LaneEstimate;
  laneFigures: LaneFigures;
  lanePrice: LanePrice;
  leaseHolder: LeaseHolder;
  ledger: Ledger;
  ledgerEntry: LedgerEntry;
  levelRange: LevelRange;
  limitOverrides: LimitOverrides;
  loadedConfig: LoadedConfig;
  mediaInput: MediaInput;
  modelCall: ModelCall;
  modelLimits: ModelLimits;
  modelPrices: ModelPrices;
  modelRequest: ModelRequest;
  openTelemetryDelivery: OpenTelemetryDelivery;
  outputDocument: OutputDocument;
  outputLocation: OutputLocation;
  outputMeta: OutputMeta;
  outputRecovery: OutputRecovery;
  outputSink: OutputSink;
  outputSinkKind: OutputSinkKind;
  outputStoreOptions: OutputStoreOptions;
  priceList: PriceList;
  priceOverrides: PriceOverrides;
  projection: Projection;
  realtimeLimits: RealtimeLimits;
  recordAttempt: RecordAttempt;
  recordCounts: RecordCounts;
  recordDetail: RecordDetail;
  recordFault: RecordFault;
  recordFilter: RecordFilter;
  recordSelection: RecordSelection;
  recordStatus: RecordStatus;
  recordVars: RecordVars;
  remoteFile: RemoteFile;
  requestLimits: RequestLimits;
  responder: Responder;
  retryPolicy: RetryPolicy;
  runOutcome: RunOutcome;
  runRow: RunRow;
  runTraces: RunTraces;
  runSummary: RunSummary;
  runTotals: RunTotals;
  runUsage: RunUsage;
  runnerClock: RunnerClock;
  runnerEvent: RunnerEvent;
  runnerEventListener: RunnerEventListener;
  runnerSettings: RunnerSettings;
  runningEmulator: RunningEmulator;
  selectionPlan: SelectionPlan;
  /** Deprecated alias of ExportDelivery, kept for programs that name it. */
  signalDelivery: SignalDelivery;
  shardCommit: ShardCommit;
  sourceConfig: SourceConfig;
  sourceRecord: SourceRecord;
  staleOutputCounts: StaleOutputCounts;
  staleReason: StaleReason;
  stallAction: StallAction;
  stallPolicy: StallPolicy;
  storedEvent: StoredEvent;
  storedRecord: StoredRecord;
  storedText: StoredText;
  syncLane: SyncLane;
  tableSourceConfig: TableSourceConfig;
  telemetrySink: TelemetrySink;
  tracedJob: TracedJob;
  tracedJobEvent: TracedJobEvent;
  tracedRun: TracedRun;
  tierOptions: TierOptions;
  tierQuotas: TierQuotas;
  tokenRates: TokenRates;
  tokenSource: TokenSource;
  turnaroundRange: TurnaroundRange;
  usageTier: UsageTier;
  usageTierLimits: UsageTierLimits;
  waitingRecord: WaitingRecord;
  watermarkOf: WatermarkOf;
  wireGenerateRequest: WireGenerateRequest;
  workloadConfigInput: WorkloadConfigInput;
  workloadDefinition: WorkloadDefinition;
  workloadEstimate: WorkloadEstimate;
  workloadJob: WorkloadJob;
  workloadRecord: WorkloadRecord;
  workloadServiceOptions: WorkloadServiceOptions;
  workloadSession: WorkloadSession;
  workloadSessionOptions: WorkloadSessionOptions;
  workloadStatus: WorkloadStatus;
  workloadStore: WorkloadStore;
}

describe("the package entry ('wavebatch')", () => {
  // A program catches by class as well as by code: ConfigError (what loadConfig throws), GeminiApiError,
  // SourceError, StoreError… were not exported, so only `code` strings could tell them apart.
  it('exports the error classes a program may meet, as WavebatchErrors', () => {
    for (const error of [
      NodeVersionError,
      MissingApiKeyError,
      EmulatorListenError,
      RunLockedError,
      LeaseLostError,
      ConfigError,
      SchemaError,
      NoBatchQuotaError,
      SourceError,
      RecordIdError,
      LineReadError,
      PromptError,
      GeminiApiError,
      StoreError,
      OutputCorruptError,
      OutputPathClashError,
      OutputPathError,
      OutputSinkChangedError,
      ShardCorruptError,
      SelectionError,
      RequeueIdsError,
      ExportTargetError,
      HeapSettingError,
      EmulatorOptionError,
      FaultPlanError,
    ])
      expect(error.prototype).toBeInstanceOf(WavebatchError);
  });

  it('throws them as their exported classes, with codes typed by class', async () => {
    const missing = await loadConfig('/nonexistent/wavebatch.yaml').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ConfigError);
    if (!(missing instanceof ConfigError)) return;
    const code: ConfigErrorCode = missing.code;
    const issue: ConfigIssue | undefined = missing.issues[0];
    expect([code, missing.category, issue?.file]).toEqual([
      'CONFIG_NOT_FOUND',
      'input',
      '/nonexistent/wavebatch.yaml',
    ]);
    const refused = await startEmulator({ timeScale: -1 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EmulatorOptionError);
    expect((refused as EmulatorOptionError).code).toBe('INPUT_EMULATOR_OPTION');
  });

  it('exports the id generator that gives re-exported attempts their span ids', () => {
    expect(new DerivedIdGenerator().generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});
