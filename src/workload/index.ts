/**
 * Workload sources: where records come from (a folder tree of pages, a JSONL / JSON / CSV file, or a
 * TypeScript function), streamed so that no workload is ever held whole in memory.
 */
import { dirname } from 'node:path';
import type { LoadedConfig } from '../config/index.js';
import { directoryRecords } from './directory-source.js';
import { functionRecords } from './function-source.js';
import type { WorkloadRecord } from './record.js';
import { tableRecords } from './table-source.js';

export { RecordIdError, SourceError, type SourceErrorCode } from './errors.js';
export { validateRecordId } from './record-id.js';
export { RepeatFinder } from './repeats.js';
export { sourceFingerprint } from './fingerprint.js';
export { mimeTypeOf } from './media-types.js';
export { mediaRootOf } from './media-root.js';
export type { MediaInput, RecordVars, SourceRecord, WorkloadRecord } from './record.js';

/** Streams the configured source's records; nothing is read until the first one is asked for. */
export function openSource(config: LoadedConfig): AsyncIterable<WorkloadRecord> {
  const baseFolder = dirname(config.configPath);
  const hook = config.hooks?.source;
  if (hook) return functionRecords(hook, baseFolder);
  const source = config.source;
  switch (source.type) {
    case 'directory':
      return directoryRecords(source);
    case 'function':
      return functionRecords(source.records, baseFolder);
    default:
      return tableRecords(source);
  }
}
