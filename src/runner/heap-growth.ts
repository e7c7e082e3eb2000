import { setFlagsFromString } from 'node:v8';
import { WavebatchError } from '../errors.js';

/**
 * How far (percent) the heap may grow past the data that survived the last full collection before
 * V8 collects again. With plenty of memory V8 lets it grow up to four times: a long run keeps little
 * (about 150 MB live at a million records) but makes garbage at a steady rate, so peak RSS followed
 * the growth, not the data (802 MB at a million records with V8's choice). 50% takes that to about
 * 600 MB for about 5% more local time; the concurrent marking runs on another core.
 */
export const HEAP_GROWING_PERCENT = 50;

/** The environment variable that overrides it; 0 leaves the growth to V8. */
export const HEAP_GROWING_VARIABLE = 'WAVEBATCH_HEAP_GROWING_PERCENT';

const FLAG = 'heap-growing-percent';

/** Raised when WAVEBATCH_HEAP_GROWING_PERCENT is not a whole number from 0 to 1000. */
export class HeapSettingError extends WavebatchError {
  readonly code = 'INPUT_HEAP_SETTING';
  constructor(value: string) {
    super(
      `${HEAP_GROWING_VARIABLE} must be a whole number of percent from 0 to 1000 (0 leaves it to V8), got "${value}".`,
    );
  }
}

/**
 * Caps the heap's growth between full collections for a long run: the `wavebatch` command calls it
 * at start. A library embedding wavebatch chooses for itself, since this sets a process-wide V8 flag.
 * Returns the percent set, or null when it left V8 alone: `WAVEBATCH_HEAP_GROWING_PERCENT=0`, or
 * Node started with `--heap-growing-percent` (which NODE_OPTIONS does not accept).
 */
export function limitHeapGrowth(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): number | null {
  const setting = env[HEAP_GROWING_VARIABLE]?.trim();
  if (setting !== undefined && setting !== '' && !/^\d{1,4}$/.test(setting))
    throw new HeapSettingError(setting);
  const percent = setting ? Number(setting) : HEAP_GROWING_PERCENT;
  if (percent > 1000) throw new HeapSettingError(setting ?? '');
  // V8 reads its flags with dashes or underscores alike.
  const given = execArgv.some((argument) => argument.replaceAll('_', '-').startsWith(`--${FLAG}`));
  if (given || percent === 0) return null;
  setFlagsFromString(`--${FLAG}=${percent}`);
  return percent;
}
