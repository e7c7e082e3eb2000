import {
  CALL_KINDS,
  EmulatorOptionError,
  HTTP_FAULTS,
  type CallKind,
  type FaultPlan,
  type RecordFault,
} from '../../emulator/index.js';

/** The emulator command's fault flags beside `--faults`, as commander hands them over. */
export interface RawFaultOptions {
  faultRate?: string[];
  httpFault?: string[];
  refuseMime?: string[];
}

const RECORD_FAULTS: readonly RecordFault[] = [
  'invalid_json',
  'max_tokens',
  'safety',
  'empty',
  'request_error',
];

/** Faults drawn per created batch job, by their `--fault-rate` name and their place in the plan. */
const JOB_RATES = {
  job_failed: 'failed',
  job_expired: 'expired',
  job_stuck: 'stuck',
  job_rows_failed: 'rows_failed',
  job_no_metadata: 'no_metadata',
} as const;

/** Faults drawn per answered row of a job's output. */
const ROW_RATES = { missing_row: 'missing', duplicate_row: 'duplicated' } as const;

/** Faults drawn per upload. */
const FILE_RATES = { upload_stuck: 'stuck_processing' } as const;

/** Every name `--fault-rate` takes. */
export const FAULT_RATE_NAMES: readonly string[] = [
  ...RECORD_FAULTS,
  ...Object.keys(JOB_RATES),
  ...Object.keys(ROW_RATES),
  ...Object.keys(FILE_RATES),
];

/**
 * Adds `--fault-rate name=p` (per request, job, row or upload), `--http-fault kind[:call][=p]` and
 * `--refuse-mime type` to a fault plan; a bad value names its flag and what it expects.
 */
export function withFaultFlags(plan: FaultPlan, raw: RawFaultOptions): FaultPlan {
  const out: FaultPlan = { ...plan };
  for (const pair of raw.faultRate ?? []) {
    const [name, value, ...rest] = pair.split('=');
    const rate = Number(value);
    if (!name || !FAULT_RATE_NAMES.includes(name) || rest.length > 0 || !value || !(rate >= 0 && rate <= 1)) {
      fail(
        '--fault-rate',
        pair,
        `fault=probability with fault one of ${FAULT_RATE_NAMES.join(', ')} and probability from 0 to 1, e.g. safety=0.1`,
      );
    }
    if (name in JOB_RATES)
      out.jobRates = { ...out.jobRates, [JOB_RATES[name as keyof typeof JOB_RATES]]: rate };
    else if (name in ROW_RATES)
      out.rowRates = { ...out.rowRates, [ROW_RATES[name as keyof typeof ROW_RATES]]: rate };
    else if (name in FILE_RATES)
      out.fileRates = { ...out.fileRates, [FILE_RATES[name as keyof typeof FILE_RATES]]: rate };
    else out.rates = { ...out.rates, [name as RecordFault]: rate };
  }
  for (const entry of raw.httpFault ?? []) {
    const match = /^([a-z0-9_]+)(?::([a-z]+))?(?:=([0-9.]+))?$/.exec(entry);
    const [, kind, call, rateText] = match ?? [];
    const rate = rateText === undefined ? undefined : Number(rateText);
    if (
      !HTTP_FAULTS.some((known) => known === kind) ||
      (call !== undefined && !CALL_KINDS.some((known) => known === call)) ||
      (rate !== undefined && !(rate >= 0 && rate <= 1))
    ) {
      fail(
        '--http-fault',
        entry,
        `kind[:call][=probability] with kind one of ${HTTP_FAULTS.join(', ')} and call one of ${CALL_KINDS.join(', ')}, e.g. status_429:create=0.3`,
      );
    }
    out.http = [
      ...(out.http ?? []),
      {
        kind: kind as (typeof HTTP_FAULTS)[number],
        ...(call !== undefined ? { match: call as CallKind } : {}),
        ...(rate !== undefined ? { rate } : {}),
      },
    ];
  }
  if (raw.refuseMime?.length) out.refuseMimeTypes = [...(out.refuseMimeTypes ?? []), ...raw.refuseMime];
  return out;
}

function fail(option: string, value: string, expected: string): never {
  throw new EmulatorOptionError(`Invalid ${option} "${value}": expected ${expected}.`);
}
