import { EmulatorOptionError, type EmulatorOptions } from '../../emulator/index.js';

/** The emulator command's quota flags, as commander hands them over (the per-model ones repeatable). */
export interface RawQuotaOptions {
  maxConcurrentJobs?: string;
  maxEnqueuedTokens?: string[];
  rpm?: string[];
  tpm?: string[];
  rpd?: string[];
  fileStorage?: string;
}

type PerModelLimit = 'maxEnqueuedTokensPerModel' | 'rpm' | 'tpm' | 'rpd';

const PER_MODEL_FLAGS: ReadonlyArray<['maxEnqueuedTokens' | 'rpm' | 'tpm' | 'rpd', string, PerModelLimit]> = [
  ['maxEnqueuedTokens', '--max-enqueued-tokens', 'maxEnqueuedTokensPerModel'],
  ['rpm', '--rpm', 'rpm'],
  ['tpm', '--tpm', 'tpm'],
  ['rpd', '--rpd', 'rpd'],
];

/**
 * The quota flags as EmulatorOptions' `quotas`. A per-model flag takes `n` for every model and
 * `model=n` for one (`--rpm 500 --rpm gemini-2.5-pro=50`); a bad value names its flag.
 */
export function quotaOptionsFrom(raw: RawQuotaOptions): NonNullable<EmulatorOptions['quotas']> {
  const quotas: NonNullable<EmulatorOptions['quotas']> = {};
  if (raw.maxConcurrentJobs !== undefined)
    quotas.maxConcurrentBatchJobs = singleLimit(raw.maxConcurrentJobs, '--max-concurrent-jobs', '2');
  if (raw.fileStorage !== undefined)
    quotas.fileStorageBytes = singleLimit(raw.fileStorage, '--file-storage', '1000000000');
  for (const [key, flag, limit] of PER_MODEL_FLAGS) {
    for (const entry of raw[key] ?? []) {
      const at = entry.lastIndexOf('=');
      const value = positiveInteger(entry.slice(at + 1), flag, entry);
      if (at < 0) {
        quotas[limit] = value;
        continue;
      }
      const model = entry.slice(0, at);
      if (model === '') fail(flag, entry, 'n or model=n, e.g. 2000 or gemini-2.5-flash=2000');
      quotas.models ??= {};
      quotas.models[model] = { ...quotas.models[model], [limit]: value };
    }
  }
  return quotas;
}

/** A flag of one number for the whole emulator: its error offers no `model=n`, which it does not take. */
function singleLimit(text: string, flag: string, example: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0)
    fail(flag, text, `a positive integer, e.g. ${flag} ${example}`);
  return Number(text);
}

function positiveInteger(text: string, flag: string, entry = text): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value <= 0)
    fail(flag, entry, 'a positive integer, or model=n for one model (e.g. gemini-2.5-flash=2000)');
  return value;
}

function fail(flag: string, value: string, expected: string): never {
  throw new EmulatorOptionError(`Invalid ${flag} "${value}": expected ${expected}.`);
}
