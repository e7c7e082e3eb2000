import { sha256Hex } from '../sha256.js';
import type { LoadedConfig } from './types.js';

/**
 * sha256 of what a config asks for, recorded with each run: the same settings give the same hash.
 * The API key never enters it, and functions (TypeScript hooks and sources) count by their source text.
 */
export function configDigest(config: LoadedConfig): string {
  const { apiKey: _apiKey, configPath: _path, ...settings } = config;
  const json = JSON.stringify(settings, (_key, value: unknown) =>
    typeof value === 'function' ? `function:${String(value)}` : value,
  );
  return sha256Hex(json);
}
