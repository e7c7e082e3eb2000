/**
 * Outputs: one atomic JSON file per record under the output root, the source of truth for what is
 * done, and exports of all of them as JSONL or CSV.
 */
export { OutputCorruptError, OutputPathError } from './errors.js';
export { exportOutputFiles, exportOutputs, type ExportFormat } from './export.js';
export {
  OutputStore,
  type OutputDocument,
  type OutputMeta,
  type OutputStoreOptions,
} from './output-store.js';
