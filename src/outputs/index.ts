/**
 * Outputs: where validated outputs go (a sink: one atomic JSON file per record, or append-only JSON
 * Lines shards with a manifest), how they are read back for context, and exports of all of them.
 */
export {
  ManifestUnwritableError,
  OutputCorruptError,
  OutputPathClashError,
  OutputPathError,
  OutputSinkChangedError,
  RecordIdCaseClashError,
  ShardCorruptError,
} from './errors.js';
export { exportOutputFiles, exportOutputs, type ExportFormat } from './export.js';
export { FilesSink } from './files-sink.js';
export { DEFAULT_SHARD_BYTES, JsonlSink } from './jsonl-sink.js';
export {
  OutputStore,
  type OutputDocument,
  type OutputMeta,
  type OutputStoreOptions,
} from './output-store.js';
export { MANIFEST_FILE, shardFileName, type ShardManifest } from './shard-manifest.js';
export { openOutputSink, type OutputSinkOptions } from './open-sink.js';
export type {
  CommittedOutput,
  FoldedIdScan,
  GroupWrite,
  OutputIndex,
  OutputLocation,
  OutputRecovery,
  OutputSink,
  OutputSinkKind,
  ShardCommit,
} from './sink.js';
export {
  ChainAssembler,
  chainDocumentPath,
  renderJsonl,
  renderMarkdown,
  type AssemblyEntry,
  type AssemblySettings,
  type AssemblyState,
  type AssemblyStateFilter,
  type AssemblyStateStore,
  type ChainMember,
  type ChainRecordSource,
} from './assembly/index.js';
