import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/index.js';

const DEFAULT_CONFIG_FILES = [
  'wavebatch.yaml',
  'wavebatch.yml',
  'wavebatch.ts',
  'wavebatch.mjs',
  'wavebatch.js',
];

/** `-c, --config <file>`, shared by every workload command. */
export function configOption(): Option {
  return new Option(
    '-c, --config <file>',
    'workload config (default: wavebatch.yaml, .yml, .ts, .mjs or .js in the current folder)',
  );
}

/** Loads the config named by --config, or the first default file found in the current folder. */
export async function loadConfigFromOption(path: string | undefined): Promise<LoadedConfig> {
  const chosen = path ?? DEFAULT_CONFIG_FILES.find((name) => existsSync(name)) ?? 'wavebatch.yaml';
  return loadConfig(resolve(chosen));
}
