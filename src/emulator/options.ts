import type { Responder } from './model/index.js';
import type { FaultPlan } from './fault-plan.js';
import { resolveTiers, type TierBehaviour, type TierOptions, type TierQuotas } from './service-tiers.js';
import { SYNC_LANES, type SyncLane } from '../lanes/lane.js';
import { WavebatchError } from '../errors.js';
import type { TurnaroundRange } from './turnaround.js';
import type { QuotaOverrides, QuotaValues } from './model-quotas.js';
import type { RetryDelayPrecision } from './quotas.js';
import { bareModelName, catalogModel } from './model/catalog.js';

/**
 * The limits the emulator enforces, as Google's project quotas. The per-project ones default to
 * DEFAULT_QUOTAS; the per-model ones, left out, are each model's Tier 1 limit (model-quotas.ts),
 * and given, apply to every model, or in `models` to one (over the value for every model).
 */
export interface EmulatorQuotas extends QuotaOverrides {
  /** PENDING+RUNNING batch jobs per project; default 100. */
  maxConcurrentBatchJobs: number;
  /** Input tokens of PENDING+RUNNING batch jobs per model; default Tier 1's: 2.5 Pro 5M, Flash 3M, Flash-Lite 10M. */
  maxEnqueuedTokensPerModel?: number | undefined;
  /**
   * Real-time generateContent requests per model per minute on the standard tier; default Tier 1's
   * (2.5 Flash 1,000, 2.5 Pro 150). Flex has a pool of the same size, priority 0.3x (see
   * EmulatorOptions.tierQuotas).
   */
  rpm?: number | undefined;
  /** Real-time generateContent input tokens per model per minute (standard tier); default Tier 1's (2.5 Flash 1M, 2.5 Pro 2M). */
  tpm?: number | undefined;
  /** Real-time generateContent requests per model per day (standard tier); default Tier 1's (10,000 for 2.5 Flash and Pro). */
  rpd?: number | undefined;
  /**
   * The per-model limits above for one model each, keyed by a served model's name (with or without
   * `models/`), e.g. `{'gemini-2.5-flash': {rpm: 2000}}`; a field left out is the value for every
   * model, else the model's Tier 1 limit.
   */
  models?: Record<string, QuotaValues> | undefined;
  /**
   * Bytes of all live files (uploads and batch results) per project; default 20 GiB (21,474,836,480
   * bytes), Google's "20 GB": its 429 for a full storage gives `quotaValue: "21474836480"`.
   */
  fileStorageBytes: number;
}

/** How to start an emulator; every field is optional. Times are in ms; "emulated" ones run timeScale times faster. */
export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Emulated ms per real ms; default 1. */
  timeScale?: number;
  /**
   * The real clock emulated time runs from (epoch ms); default Date.now. A test that drives time
   * itself (a virtual clock shared with the client) passes its own, so a busy machine cannot skew it.
   */
  realNow?: () => number;
  /**
   * Emulated time from create to done; default {min: 60_000, max: 600_000}, uniform. With `median`,
   * heavy-tailed: log-normal around the median, `max` its 99th percentile, clamped to [min, max].
   */
  turnaroundMs?: number | TurnaroundRange;
  /** All randomness derives from it; default 1. */
  seed?: number;
  /** Emulated lifetime of an uploaded or generated file; default 48 h. */
  fileTtlMs?: number;
  /**
   * Emulated time an uploaded video/* file stays PROCESSING before ACTIVE (or FAILED, when its bytes
   * are no known video container), as Google processes videos; default 0 (ACTIVE at once).
   */
  fileProcessingMs?: number;
  /** Which uploads fileProcessingMs applies to: 'video' (default) or 'all'. */
  fileProcessingTypes?: 'video' | 'all';
  /** Emulated; default 48 h. A job whose turnaround exceeds this ends EXPIRED. */
  jobExpiryMs?: number;
  quotas?: Partial<EmulatorQuotas>;
  /**
   * How a 429's RetryInfo states the wait: 'exact' (default), to the millisecond ("26.660s"), or
   * 'whole_seconds', rounded down ("26s" with 26.66 s to go), as Google's 429s have stated it.
   */
  retryDelayPrecision?: RetryDelayPrecision;
  /** RPM/TPM/RPD per service tier, and per model and tier, over the standard `quotas`. */
  tierQuotas?: TierQuotas;
  /**
   * Each generateContent service tier's latency (emulated ms, drawn per request) and shed rate.
   * Defaults: flex 1-15 min, standard 1-20 s, priority 0.5-5 s, nothing shed.
   */
  tiers?: Partial<Record<SyncLane, TierOptions>>;
  faults?: FaultPlan;
  /**
   * Model names served besides the built-in catalog (src/emulator/model/catalog.ts); any other name
   * is refused with Google's 404 NOT_FOUND.
   */
  models?: string[];
  /** A test's own model, asked before the synthetic one. */
  responder?: Responder;
  /** Where uploaded and result files live; default a fresh temp dir, removed on close. */
  storageDir?: string;
  /**
   * The API keys accepted; any other key is answered as Google answers a key that is not valid (400
   * INVALID_ARGUMENT, reason API_KEY_INVALID). Default: any non-empty key.
   */
  apiKeys?: readonly string[];
  /**
   * The largest request body Google's front end takes, in bytes: a batch create whose body (its
   * inline requests) or an upload whose declared size is over it is answered 413 Request Entity Too
   * Large, the front end's HTML page, before the API sees it (no job, no file). Default: none (a
   * create over 20 MB gets the API's 400 "Request payload size exceeds the limit", an upload is
   * held to 2 GB).
   */
  maxRequestBytes?: number;
}

/**
 * The per-project quotas used where EmulatorOptions.quotas leaves a field out; the per-model ones
 * are each model's Tier 1 limits (tier1Quotas).
 */
export const DEFAULT_QUOTAS: EmulatorQuotas = {
  maxConcurrentBatchJobs: 100,
  // Google's docs say "20 GB"; the quota its 429 reports is 21474836480 bytes, 20 GiB (alphaXiv/feedback#16).
  fileStorageBytes: 20 * 1024 ** 3,
};

const HOURS_48 = 48 * 3600 * 1000;

/** Options with every default filled in and every value checked. */
export interface ResolvedOptions {
  host: string;
  port: number;
  timeScale: number;
  realNow: (() => number) | undefined;
  turnaround: TurnaroundRange;
  seed: number;
  fileTtlMs: number;
  fileProcessing: { ms: number; types: 'video' | 'all' };
  jobExpiryMs: number;
  quotas: EmulatorQuotas;
  retryDelayPrecision: RetryDelayPrecision;
  tierQuotas: TierQuotas;
  tiers: Record<SyncLane, TierBehaviour>;
  faults: FaultPlan;
  models: string[];
  responder: Responder | undefined;
  storageDir: string | undefined;
  /** Null: any non-empty key. */
  apiKeys: ReadonlySet<string> | null;
  /** Null: no front-end limit (see EmulatorOptions.maxRequestBytes). */
  maxRequestBytes: number | null;
}

/** An emulator option out of range; `code` makes the CLI exit 2. */
export class EmulatorOptionError extends WavebatchError {
  readonly code = 'INPUT_EMULATOR_OPTION';
}

/** Fills defaults and rejects nonsense (negative times, zero time scale, min > max). */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const turnaround =
    typeof options.turnaroundMs === 'number'
      ? { min: options.turnaroundMs, max: options.turnaroundMs }
      : (options.turnaroundMs ?? { min: 60_000, max: 600_000 });
  const resolved: ResolvedOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    timeScale: options.timeScale ?? 1,
    realNow: options.realNow,
    turnaround,
    seed: options.seed ?? 1,
    fileTtlMs: options.fileTtlMs ?? HOURS_48,
    fileProcessing: { ms: options.fileProcessingMs ?? 0, types: options.fileProcessingTypes ?? 'video' },
    jobExpiryMs: options.jobExpiryMs ?? HOURS_48,
    quotas: withBareModelNames({ ...DEFAULT_QUOTAS, ...options.quotas }),
    retryDelayPrecision: options.retryDelayPrecision ?? 'exact',
    tierQuotas: options.tierQuotas ?? {},
    tiers: resolveTiers(options.tiers),
    faults: options.faults ?? {},
    models: options.models ?? [],
    apiKeys: options.apiKeys ? new Set(options.apiKeys) : null,
    maxRequestBytes: options.maxRequestBytes ?? null,
    responder: options.responder,
    storageDir: options.storageDir,
  };
  check(
    Number.isInteger(resolved.port) && resolved.port >= 0 && resolved.port <= 65535,
    'port',
    'an integer from 0 to 65535',
  );
  check(resolved.timeScale > 0 && Number.isFinite(resolved.timeScale), 'timeScale', 'a positive number');
  check(
    turnaround.min >= 0 && turnaround.max >= turnaround.min,
    'turnaroundMs',
    'a non-negative number or {min, max} with min <= max',
  );
  check(
    turnaround.median === undefined ||
      (turnaround.median > 0 && turnaround.median >= turnaround.min && turnaround.median <= turnaround.max),
    'turnaroundMs.median',
    'a positive number from min to max',
  );
  check(Number.isFinite(resolved.seed), 'seed', 'a number');
  check(
    resolved.maxRequestBytes === null ||
      (Number.isInteger(resolved.maxRequestBytes) && resolved.maxRequestBytes > 0),
    'maxRequestBytes',
    'a positive whole number of bytes',
  );
  check(
    ['exact', 'whole_seconds'].includes(resolved.retryDelayPrecision),
    'retryDelayPrecision',
    "'exact' or 'whole_seconds'",
  );
  check(
    Number.isFinite(resolved.fileTtlMs) && resolved.fileTtlMs > 0,
    'fileTtlMs',
    'a positive number of milliseconds',
  );
  check(
    Number.isFinite(resolved.fileProcessing.ms) && resolved.fileProcessing.ms >= 0,
    'fileProcessingMs',
    'a non-negative number of milliseconds',
  );
  check(['video', 'all'].includes(resolved.fileProcessing.types), 'fileProcessingTypes', "'video' or 'all'");
  check(
    Number.isFinite(resolved.jobExpiryMs) && resolved.jobExpiryMs > 0,
    'jobExpiryMs',
    'a positive number of milliseconds',
  );
  const { models: quotasByModel, ...quotas } = resolved.quotas;
  checkPositive(quotas, 'quotas');
  for (const [model, values] of Object.entries(quotasByModel ?? {})) {
    // A misspelt model would otherwise be a limit silently never applied.
    check(
      catalogModel(model, resolved.models) !== undefined,
      `quotas.models.${model}`,
      'keyed by a model the emulator serves (its catalog, or the models option)',
    );
    checkPositive(values, `quotas.models.${model}`);
  }
  checkTiers(resolved.tiers, resolved.tierQuotas);
  return resolved;
}

/** `quotas` with each per-model key as its bare name, as requests name models. */
function withBareModelNames(quotas: EmulatorQuotas): EmulatorQuotas {
  if (!quotas.models) return quotas;
  const models: Record<string, QuotaValues> = {};
  for (const [model, values] of Object.entries(quotas.models))
    models[bareModelName(model)] = { ...models[bareModelName(model)], ...values };
  return { ...quotas, models };
}

function checkPositive(values: object, where: string): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    check(
      typeof value === 'number' && Number.isFinite(value) && value > 0,
      `${where}.${name}`,
      'a positive number',
    );
  }
}

function checkTiers(tiers: Record<SyncLane, TierBehaviour>, quotas: TierQuotas): void {
  for (const tier of SYNC_LANES) {
    const { latencyMs, shedRate } = tiers[tier];
    check(
      Number.isFinite(latencyMs.min) && latencyMs.min >= 0 && latencyMs.max >= latencyMs.min,
      `tiers.${tier}.latencyMs`,
      'a non-negative number or {min, max} with min <= max',
    );
    check(shedRate >= 0 && shedRate <= 1, `tiers.${tier}.shedRate`, 'a probability from 0 to 1');
  }
  const limits: Array<[string, Partial<Record<SyncLane, Record<string, unknown>>> | undefined]> = [
    ['tierQuotas.tiers', quotas.tiers],
    ...Object.entries(quotas.models ?? {}).map(
      ([model, byTier]) => [`tierQuotas.models.${model}`, byTier] as [string, typeof byTier],
    ),
  ];
  for (const [where, byTier] of limits) {
    for (const [tier, values] of Object.entries(byTier ?? {})) {
      check(SYNC_LANES.includes(tier as SyncLane), `${where}.${tier}`, `one of ${SYNC_LANES.join(', ')}`);
      for (const [name, value] of Object.entries(values ?? {})) {
        check(
          ['rpm', 'tpm', 'rpd'].includes(name) && typeof value === 'number' && value > 0,
          `${where}.${tier}.${name}`,
          'rpm, tpm or rpd with a positive number',
        );
      }
    }
  }
}

function check(ok: boolean, option: string, expected: string): void {
  if (!ok) throw new EmulatorOptionError(`Emulator option ${option} must be ${expected}.`);
}
