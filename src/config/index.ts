/**
 * The workload configuration: one zod schema (`configSchema`) for `wavebatch.yaml` and
 * `wavebatch.ts`, loaded with every path resolved and every problem reported by key and line.
 */
export { loadConfig, loadedConfigOf, type WorkloadConfigInput } from './load.js';
export { ConfigError, type ConfigErrorCode, type ConfigIssue } from './config-error.js';
export { configSchema } from './schema.js';
export { DEFAULT_PAGE_EXTENSIONS } from './source-schema.js';
export { parseDuration } from './duration.js';
export type { WorkloadDefinition } from './schema.js';
export type {
  AssembleConfig,
  DirectorySourceConfig,
  ExecutionConfig,
  FunctionSourceConfig,
  LevelRange,
  LoadedConfig,
  SourceConfig,
  TableSourceConfig,
} from './types.js';

import type { WorkloadDefinition } from './schema.js';

/** Identity, for typed TypeScript configs: `export default defineWorkload({ ... })`. */
export function defineWorkload(definition: WorkloadDefinition): WorkloadDefinition {
  return definition;
}
export { jsonErrorPosition, type JsonErrorPosition } from './json-syntax.js';
export { configDigest } from './digest.js';
