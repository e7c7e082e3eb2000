import { parseDuration } from '../../config/duration.js';
import { EmulatorOptionError, type EmulatorOptions } from '../../emulator/index.js';
import { SYNC_LANES, type SyncLane } from '../../lanes/lane.js';

/** The emulator command's service-tier flags, as commander hands them over. */
export interface RawTierOptions {
  latency?: string[];
  shedRate?: string[];
  tierLimit?: string[];
}

const LIMITS = ['rpm', 'tpm', 'rpd'] as const;
type LimitName = (typeof LIMITS)[number];

/**
 * `--latency flex=1m-15m`, `--shed-rate flex=0.2` and `--tier-limit [model:]tier:rpm=n` as
 * EmulatorOptions' `tiers` and `tierQuotas`; a bad value names its flag and what it expects.
 */
export function tierOptionsFrom(raw: RawTierOptions): Pick<EmulatorOptions, 'tiers' | 'tierQuotas'> {
  const tiers: NonNullable<EmulatorOptions['tiers']> = {};
  for (const pair of raw.latency ?? []) {
    const [tier, value] = tierPair(pair, '--latency', 'flex=1m-15m');
    tiers[tier] = { ...tiers[tier], latencyMs: latency(value, pair) };
  }
  for (const pair of raw.shedRate ?? []) {
    const [tier, value] = tierPair(pair, '--shed-rate', 'flex=0.2');
    const share = Number(value);
    if (value === '' || !(share >= 0 && share <= 1))
      fail('--shed-rate', pair, 'tier=share with a share from 0 to 1, e.g. flex=0.2');
    tiers[tier] = { ...tiers[tier], shedRate: share };
  }
  const tierQuotas: NonNullable<EmulatorOptions['tierQuotas']> = {};
  for (const entry of raw.tierLimit ?? []) {
    const { model, tier, limit, value } = tierLimit(entry);
    if (model === undefined) {
      tierQuotas.tiers ??= {};
      tierQuotas.tiers[tier] = { ...tierQuotas.tiers[tier], [limit]: value };
    } else {
      tierQuotas.models ??= {};
      const byTier = (tierQuotas.models[model] ??= {});
      byTier[tier] = { ...byTier[tier], [limit]: value };
    }
  }
  return {
    ...(Object.keys(tiers).length > 0 ? { tiers } : {}),
    ...(Object.keys(tierQuotas).length > 0 ? { tierQuotas } : {}),
  };
}

function isTier(text: string | undefined): text is SyncLane {
  return SYNC_LANES.some((tier) => tier === text);
}

function tierPair(pair: string, flag: string, example: string): [SyncLane, string] {
  const at = pair.indexOf('=');
  const tier = at < 0 ? undefined : pair.slice(0, at);
  if (!isTier(tier))
    fail(flag, pair, `tier=value with tier one of ${SYNC_LANES.join(', ')}, e.g. ${example}`);
  return [tier, pair.slice(at + 1)];
}

function latency(text: string, pair: string): number | { min: number; max: number } {
  const parts = text.split('-');
  const ms = parts.map((part) => parseDuration(part));
  const [min, max] = ms;
  if (ms.length > 2 || min === undefined || (ms.length === 2 && max === undefined))
    fail('--latency', pair, 'tier=duration or tier=min-max, e.g. flex=1m-15m or standard=2s');
  if (max === undefined) return min;
  if (min > max) fail('--latency', pair, 'a range whose first duration is not longer than the second');
  return { min, max };
}

function tierLimit(entry: string): { model?: string; tier: SyncLane; limit: LimitName; value: number } {
  const expected = '[model:]tier:rpm|tpm|rpd=n, e.g. flex:rpm=60 or gemini-2.5-pro:priority:tpm=100000';
  const match = /^(?:([^:=]+):)?([a-z]+):([a-z]+)=(\d+)$/.exec(entry);
  const [, model, tier, limit, value] = match ?? [];
  if (!isTier(tier) || !LIMITS.some((name) => name === limit) || !(Number(value) > 0))
    fail('--tier-limit', entry, expected);
  return { ...(model !== undefined ? { model } : {}), tier, limit: limit as LimitName, value: Number(value) };
}

function fail(option: string, value: string, expected: string): never {
  throw new EmulatorOptionError(`Invalid ${option} "${value}": expected ${expected}.`);
}
