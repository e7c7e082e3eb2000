import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { parseDuration } from '../../config/duration.js';
import {
  DEFAULT_QUOTAS,
  EmulatorOptionError,
  parseFaultPlan,
  startEmulator,
  type EmulatorOptions,
  type FaultPlan,
} from '../../emulator/index.js';
import { tierOptionsFrom, type RawTierOptions } from './emulator-tier-options.js';
import { withFaultFlags, type RawFaultOptions } from './emulator-fault-options.js';
import { quotaOptionsFrom, type RawQuotaOptions } from './emulator-quota-options.js';
import { describeError, describeErrorMessage } from '../../errors.js';

export interface RawOptions extends RawTierOptions, RawFaultOptions, RawQuotaOptions {
  host: string;
  port: string;
  timeScale: string;
  turnaround: string;
  seed: string;
  fileTtl: string;
  fileProcessing?: string;
  fileProcessingTypes?: string;
  jobExpiry: string;
  faults?: string;
  model?: string[];
  apiKey?: string[];
  storageDir?: string;
  maxRequestBytes?: string;
  wholeSecondRetryDelays?: boolean;
}

const FILE_PROCESSING_TYPES: ReadonlyArray<NonNullable<EmulatorOptions['fileProcessingTypes']>> = [
  'video',
  'all',
];

const EXAMPLES = `
Examples:
  wavebatch emulator                                   # http://127.0.0.1:8080, real time, jobs take 60s-10m
  wavebatch emulator --port 0 --time-scale 3600        # a free port; one emulated hour per real second
  wavebatch emulator --turnaround 5m --seed 42         # every job takes exactly 5 emulated minutes
  wavebatch emulator --max-concurrent-jobs 2 --rpm 10  # tight quotas: 429 RESOURCE_EXHAUSTED with RetryInfo
  wavebatch emulator --rpm gemini-2.5-flash=2000 --tpm gemini-2.5-flash=3000000   # one model's limits (Tier 2-like)
  wavebatch emulator --fault-rate safety=0.1 --fault-rate invalid_json=0.05
  wavebatch emulator --fault-rate job_stuck=0.2 --fault-rate missing_row=0.01 --http-fault status_429:create=0.3
  wavebatch emulator --refuse-mime jsonl --file-storage 1000000000   # Google's refusals, on demand
  wavebatch emulator --faults '{"jobSequence":["job_failed"],"http":[{"kind":"status_503","match":"create","count":1}]}'
  wavebatch emulator --faults faults.json              # a FaultPlan in a file
  wavebatch emulator --file-processing 30s             # uploaded videos stay PROCESSING for 30 emulated s
  wavebatch emulator --latency flex=1m-15m --shed-rate flex=0.2   # Flex answers in 1-15 min; 20% shed (503)
  wavebatch emulator --tier-limit flex:rpm=60 --tier-limit gemini-2.5-pro:priority:tpm=100000

Point wavebatch at it with api.base_url (wavebatch.yaml) or --base-url; any API key is accepted.
GET /_emulator/ledger shows what was billed; POST /_emulator/faults replaces the fault plan.`;

/** `wavebatch emulator`: a local Gemini API (files, batches, generateContent) for tests and demos. */
export function emulatorCommand(): Command {
  return (
    new Command('emulator')
      .description(
        'Run a local Gemini API emulator (Files, Batch API, generateContent, countTokens) until Ctrl-C',
      )
      .option('--host <host>', 'interface to listen on', '127.0.0.1')
      .option('--port <port>', 'port to listen on (0 = any free port)', '8080')
      .option(
        '--time-scale <factor>',
        'emulated milliseconds per real millisecond (3600 = an hour per second)',
        '1',
      )
      .option(
        '--turnaround <duration|range>',
        'emulated time from job creation to completion: 5m, or a range 60s-10m drawn per job',
        '60s-10m',
      )
      .option('--seed <n>', 'seed for every random choice (turnarounds, faults, result order)', '1')
      .option('--file-ttl <duration>', 'emulated lifetime of uploaded and result files', '48h')
      .option(
        '--file-processing <duration>',
        'emulated time an upload stays PROCESSING, then ACTIVE (FAILED if an undecodable video); requests using it meanwhile get 400 FAILED_PRECONDITION (default 0s)',
      )
      .option(
        '--file-processing-types <video|all>',
        'which uploads --file-processing applies to: video (video/* only, as Google does) or all (default video)',
      )
      .option('--job-expiry <duration>', 'a job whose turnaround exceeds this ends EXPIRED', '48h')
      .option(
        '--max-concurrent-jobs <n>',
        `PENDING+RUNNING batch jobs allowed (default ${DEFAULT_QUOTAS.maxConcurrentBatchJobs})`,
      )
      // No brackets in the placeholders: commander would take the flag as single-valued (see --http-fault).
      .addOption(
        new Option(
          '--max-enqueued-tokens <n|model=n...>',
          "input tokens of active jobs, for every model or (model=n, repeatable) one (default each model's Tier 1 limit: 2.5 Pro 5M, 2.5 Flash 3M, 2.5 Flash-Lite 10M)",
        ),
      )
      .addOption(
        new Option(
          '--rpm <n|model=n...>',
          "generateContent requests per minute, for every model or (model=n, repeatable) one, e.g. --rpm gemini-2.5-flash=2000 (default each model's Tier 1 limit: 2.5 Flash 1000, 2.5 Pro 150)",
        ),
      )
      .addOption(
        new Option(
          '--tpm <n|model=n...>',
          "generateContent input tokens per minute, for every model or (model=n) one (default Tier 1's: 2.5 Flash 1M, 2.5 Pro 2M)",
        ),
      )
      .addOption(
        new Option(
          '--rpd <n|model=n...>',
          "generateContent requests per day, for every model or (model=n) one (default Tier 1's: 10000 for 2.5 Flash and Pro)",
        ),
      )
      .addOption(
        new Option(
          '--latency <tier=duration|range...>',
          'emulated time a service tier takes to answer generateContent, drawn per request (defaults flex=1m-15m, standard=1s-20s, priority=500ms-5s)',
        ),
      )
      .addOption(
        new Option(
          '--shed-rate <tier=share...>',
          'share of a tier\'s requests answered with 503 UNAVAILABLE "high demand" instead (Flex shedding; default 0)',
        ),
      )
      .addOption(
        new Option(
          '--tier-limit <[model:]tier:limit=n...>',
          'RPM/TPM/RPD of one service tier (for one model); flex defaults to the --rpm/--tpm/--rpd pool size, priority to 0.3x',
        ),
      )
      .option(
        '--whole-second-retry-delays',
        'state the wait in a 429\'s RetryInfo in whole seconds rounded down ("26s" with 26.66 s to go), as Google has, instead of to the millisecond',
      )
      .option(
        '--file-storage <bytes>',
        `bytes of live files (uploads and results) the project may hold before uploads get 429 (default ${DEFAULT_QUOTAS.fileStorageBytes}: 20 GiB, Google's "20 GB"; a project may hold exactly that many)`,
      )
      .option('--faults <json|file>', 'a FaultPlan as inline JSON or a path to a JSON file')
      .addOption(
        new Option(
          '--fault-rate <fault=probability...>',
          `probability of a fault per processed request (invalid_json, max_tokens, safety, empty, request_error), per created job (job_failed, job_expired, job_stuck, job_rows_failed, job_no_metadata), per answered row (missing_row, duplicate_row) or per upload (upload_stuck)`,
        ),
      )
      .addOption(
        new Option(
          // No brackets in the placeholder: commander then took the flag as single-valued, and a
          // second --http-fault replaced the first (read letter by letter: 'Invalid --http-fault "s"').
          '--http-fault <kind:call=probability...>',
          'answer calls with an HTTP fault: kind[:call][=probability], kind status_400, status_408, status_413, status_429, status_499, status_500, status_503, status_504, drop or reset_mid_body (half the answer, then a connection reset), on create, get, list, upload, download, delete, generate, count or any (default any, probability 1), e.g. status_429:create=0.3; repeat the flag for more',
        ),
      )
      .addOption(
        new Option(
          '--refuse-mime <type...>',
          'refuse uploads declared with this MIME type with 400 "Unsupported MIME type: <type>", e.g. jsonl',
        ),
      )
      .addOption(
        new Option(
          '--model <name...>',
          'serve this model name too (repeatable); any name not in the built-in catalog is a 404 NOT_FOUND',
        ),
      )
      .addOption(
        new Option(
          '--api-key <key...>',
          'accept only this API key (repeatable); any other is answered as Google answers a key it does not know, 400 INVALID_ARGUMENT "API key not valid" (default: any non-empty key)',
        ),
      )
      .option(
        '--max-request-bytes <n>',
        "answer a batch create whose body (its inline requests), or an upload whose size, is over n bytes with the front end's 413 Request Entity Too Large page (default: none; a create over 20 MB gets the API's 400)",
      )
      .option(
        '--storage-dir <dir>',
        'keep uploaded and result files here (default: a temp dir removed on exit)',
      )
      .addHelpText('after', EXAMPLES)
      .action(async (raw: RawOptions) => {
        const options = await emulatorOptionsFrom(raw);
        await serveUntilSignal(options);
      })
  );
}

/** Turns the command's strings into EmulatorOptions; a bad value names its option. */
export async function emulatorOptionsFrom(raw: RawOptions): Promise<EmulatorOptions> {
  const quotas = quotaOptionsFrom(raw);

  const port = Number(raw.port);
  if (!/^\d+$/.test(raw.port) || port > 65535)
    fail('--port', raw.port, 'an integer from 0 to 65535, e.g. --port 8080');
  const timeScale = Number(raw.timeScale);
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    fail('--time-scale', raw.timeScale, 'a positive number, e.g. --time-scale 3600');
  const seed = Number(raw.seed);
  if (!Number.isInteger(seed)) fail('--seed', raw.seed, 'an integer, e.g. --seed 42');

  const faults = withFaultFlags(raw.faults ? await faultPlanFrom(raw.faults) : {}, raw);

  return {
    host: raw.host,
    port,
    timeScale,
    turnaroundMs: turnaround(raw.turnaround),
    seed,
    fileTtlMs: duration(raw.fileTtl, '--file-ttl'),
    ...fileProcessing(raw),
    jobExpiryMs: duration(raw.jobExpiry, '--job-expiry'),
    quotas,
    ...(raw.wholeSecondRetryDelays ? { retryDelayPrecision: 'whole_seconds' as const } : {}),
    ...tierOptionsFrom(raw),
    faults,
    ...(raw.model?.length ? { models: raw.model } : {}),
    ...(raw.apiKey?.length ? { apiKeys: raw.apiKey } : {}),
    ...(raw.storageDir ? { storageDir: raw.storageDir } : {}),
    ...(raw.maxRequestBytes !== undefined ? { maxRequestBytes: requestLimit(raw.maxRequestBytes) } : {}),
  };
}

/** --max-request-bytes as a positive whole number of bytes. */
function requestLimit(raw: string): number {
  const bytes = Number(raw);
  if (!/^\d+$/.test(raw) || !(bytes > 0))
    fail('--max-request-bytes', raw, 'a positive whole number of bytes, e.g. --max-request-bytes 20971520');
  return bytes;
}

async function serveUntilSignal(options: EmulatorOptions): Promise<void> {
  const exposure = exposureWarning(options.host ?? '127.0.0.1');
  if (exposure) process.stderr.write(`${exposure}\n`);
  const emulator = await startEmulator(options);
  process.stdout.write(`Gemini API emulator listening on ${emulator.url}\n`);
  const keys = options.apiKeys?.length ? 'one of the --api-key keys' : 'any API key';
  process.stderr.write(`Use it with: api.base_url: ${emulator.url} (${keys}). Ctrl-C to stop.\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.close();
  process.stderr.write('emulator stopped\n');
}

/** A warning when `host` is reachable from other machines: the emulator checks no key and shows every prompt. */
export function exposureWarning(host: string): string | undefined {
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  if (loopback) return undefined;
  return (
    `warning: --host ${host} makes the emulator reachable from other machines. It accepts any API key, ` +
    'and /_emulator/* (ledger, faults, clock) shows every prompt and lets anyone change its behaviour. ' +
    'Listen on 127.0.0.1 unless every machine on that network may see your prompts.'
  );
}

type FileProcessingTypes = NonNullable<EmulatorOptions['fileProcessingTypes']>;

function fileProcessing(raw: RawOptions): Pick<EmulatorOptions, 'fileProcessingMs' | 'fileProcessingTypes'> {
  const types = raw.fileProcessingTypes;
  if (types !== undefined && !isFileProcessingTypes(types))
    fail('--file-processing-types', types, `one of ${FILE_PROCESSING_TYPES.join(', ')}`);
  return {
    ...(raw.fileProcessing !== undefined
      ? { fileProcessingMs: duration(raw.fileProcessing, '--file-processing') }
      : {}),
    ...(types !== undefined ? { fileProcessingTypes: types } : {}),
  };
}

function isFileProcessingTypes(text: string): text is FileProcessingTypes {
  return FILE_PROCESSING_TYPES.some((type) => type === text);
}

function turnaround(text: string): EmulatorOptions['turnaroundMs'] {
  const parts = text.split('-');
  if (parts.length === 2) {
    const min = duration(parts[0] ?? '', '--turnaround');
    const max = duration(parts[1] ?? '', '--turnaround');
    if (min > max)
      fail('--turnaround', text, 'a range whose first duration is not longer than the second, e.g. 60s-10m');
    return { min, max };
  }
  return duration(text, '--turnaround');
}

function duration(text: string, option: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) fail(option, text, 'a duration like 250ms, 30s, 5m or 48h');
  return ms;
}

async function faultPlanFrom(text: string): Promise<FaultPlan> {
  const inline = text.trim().startsWith('{');
  let json: string;
  try {
    json = inline ? text : await readFile(text, 'utf8');
  } catch {
    fail('--faults', text, 'inline JSON or the path of a readable JSON file');
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    fail('--faults', inline ? '(inline JSON)' : text, `valid JSON (${describeError(error)})`);
  }
  try {
    return parseFaultPlan(value, inline ? '--faults' : `--faults ${text}`);
  } catch (error) {
    // The plan's error passed on with this option's code: its own code given too, the line named two.
    throw new EmulatorOptionError(describeErrorMessage(error));
  }
}

function fail(option: string, value: string, expected: string): never {
  throw new EmulatorOptionError(`Invalid ${option} "${value}": expected ${expected}.`);
}
