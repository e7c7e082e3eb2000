import { WavebatchError } from '../errors.js';

/** Raised when an export would write where it must not (into the output folder itself). */
export class ExportTargetError extends WavebatchError {
  readonly code = 'INPUT_EXPORT_TARGET';
}

/**
 * Raised when `WorkloadService.open` is given something other than a loaded config (a path, or a
 * `defineWorkload` object): it opens synchronously, so it cannot load a file itself;
 * `WorkloadService.load(path or definition)` does. Without this check a path failed deep inside with a TypeError.
 */
export class ConfigNotLoadedError extends WavebatchError {
  readonly code = 'CONFIG_NOT_LOADED';
  constructor(given: unknown) {
    const what = kindOf(given);
    // A definition object is loaded by the same calls, now that they take one: name it so.
    const path =
      typeof given === 'string'
        ? JSON.stringify(given)
        : typeof given === 'object' && given !== null
          ? 'definition'
          : 'path';
    super(
      `WorkloadService.open takes a loaded config, got ${what}: use \`await WorkloadService.load(${path})\`, ` +
        `or \`WorkloadService.open(await loadConfig(${path}))\`.`,
    );
  }
}

/** What was given instead of a loaded config, in words. */
function kindOf(value: unknown): string {
  if (typeof value === 'string') return `the path ${JSON.stringify(value)}`;
  if (typeof value === 'object' && value !== null) return 'an object with no configPath (not loaded)';
  return String(value);
}
