/**
 * Scaffolding new workloads: a starter that runs as it is (`wavebatch init`), or a conversion of the
 * seed system's `config.yaml` (`--from-seed-config`), written without overwriting anything.
 */
export { InitAnswerError, ScaffoldExistsError, SeedConfigError } from './errors.js';
export type { ScaffoldFile } from './scaffold-file.js';
export {
  isWorkloadName,
  STARTER_SOURCES,
  starterFiles,
  workloadNameFrom,
  type StarterAnswers,
  type StarterSource,
} from './starter-workload.js';
export {
  convertSeedConfig,
  type MappedKey,
  type SeedConversion,
  type SeedFacts,
  type UnmappedKey,
} from './seed-config.js';
export { importSeedConfig, type SeedImport } from './seed-import.js';
export { renderConfigYaml } from './config-yaml.js';
export { writeScaffold } from './write-scaffold.js';
