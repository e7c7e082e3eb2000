import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/index.js';
import { WavebatchError } from '../errors.js';
import { redact, urlHasCredentials } from '../secrets/redact.js';

const DEFAULT_CONFIG_FILES = [
  'wavebatch.yaml',
  'wavebatch.yml',
  'wavebatch.ts',
  'wavebatch.mjs',
  'wavebatch.js',
];

/** Raised when --base-url / WAVEBATCH_BASE_URL is not a plain http(s) URL: exit code 2, nothing sent. */
export class BaseUrlError extends WavebatchError {
  readonly code = 'INPUT_BASE_URL';
  constructor(value: string, from: string) {
    super(
      urlHasCredentials(value)
        ? `${from} must not hold credentials (user:password@, or a key= / token= query); the API key comes only from GEMINI_API_KEY or GOOGLE_API_KEY.`
        : `${from} must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(redact(value))}.`,
    );
  }
}

/** `-c, --config <file>`, shared by every workload command. */
export function configOption(): Option {
  return new Option(
    '-c, --config <file>',
    'workload config (default: wavebatch.yaml, .yml, .ts, .mjs or .js in the current folder)',
  );
}

/**
 * Loads the config named by --config, or the first default file found in the current folder, with
 * the API address from WAVEBATCH_BASE_URL when that is set (it wins over the config's api.base_url,
 * for every command, as it does for the one-off commands).
 */
export async function loadConfigFromOption(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  return loadWorkloadConfig(path === undefined ? {} : { config: path }, env);
}

/** The options of a workload command that talks to the API. */
export interface WorkloadOptions {
  config?: string;
  baseUrl?: string;
}

/**
 * Loads the workload config and applies the API address from --base-url, else WAVEBATCH_BASE_URL,
 * else the config's api.base_url (the one-off commands read the same two).
 */
export async function loadWorkloadConfig(
  options: WorkloadOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const chosen = options.config ?? DEFAULT_CONFIG_FILES.find((name) => existsSync(name)) ?? 'wavebatch.yaml';
  const config = await loadConfig(resolve(chosen)).catch((error: unknown) => {
    throw options.config === undefined ? withDefaultFileHint(error) : error;
  });
  const [baseUrl, from] =
    options.baseUrl !== undefined
      ? [options.baseUrl, '--base-url']
      : env.WAVEBATCH_BASE_URL
        ? [env.WAVEBATCH_BASE_URL, 'WAVEBATCH_BASE_URL']
        : [undefined, ''];
  if (baseUrl === undefined) return config;
  if (!/^https?:\/\/[^/]/.test(baseUrl) || urlHasCredentials(baseUrl)) throw new BaseUrlError(baseUrl, from);
  return { ...config, api: { ...config.api, base_url: baseUrl } };
}

/**
 * No config given and none of the default files here: the command's advice (the library's error
 * names only the path, as a program calling loadConfig passes no flags).
 */
function withDefaultFileHint(error: unknown): unknown {
  if (!(error instanceof ConfigError) || error.code !== 'CONFIG_NOT_FOUND') return error;
  const [first, ...rest] = error.issues;
  if (!first) return error;
  const hint =
    'no wavebatch.yaml (.yml, .ts, .mjs, .js) in this folder; pass one with -c <file>, or create one with `wavebatch init`';
  return new ConfigError('CONFIG_NOT_FOUND', [{ ...first, message: `${first.message}: ${hint}` }, ...rest]);
}
