import type { LoadedConfig } from './types.js';

/** Where the API key of a loaded config came from (the key itself is never shown). */
export type ApiKeySource = 'GEMINI_API_KEY' | 'GOOGLE_API_KEY' | null;

/**
 * A loaded config as data to show the user (`wavebatch config check`): every default applied and
 * every path absolute, with the API key replaced by the variable it came from and functions (in a
 * TypeScript config) by "(function)". Pure; safe to print and to log.
 */
export function resolvedConfigView(
  config: LoadedConfig,
  env: Record<string, string | undefined>,
): { config: Record<string, unknown>; apiKeyFrom: ApiKeySource } {
  const { apiKey: _apiKey, configPath: _configPath, ...rest } = config;
  return { config: plain(rest) as Record<string, unknown>, apiKeyFrom: apiKeySource(config, env) };
}

/** The variable the loaded config's API key came from, or null when it has none. */
export function apiKeySource(config: LoadedConfig, env: Record<string, string | undefined>): ApiKeySource {
  if (!config.apiKey) return null;
  return env.GEMINI_API_KEY?.trim() ? 'GEMINI_API_KEY' : 'GOOGLE_API_KEY';
}

/** A deep copy with functions named instead of kept, and undefined values left out. */
function plain(value: unknown): unknown {
  if (typeof value === 'function') return '(function)';
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, plain(item)]),
  );
}
