import { Option } from 'commander';
import {
  createGeminiClient,
  PLACEHOLDER_API_KEY,
  type GeminiClient,
  type GeminiClientOptions,
} from '../../gemini/index.js';
import { WavebatchError } from '../../errors.js';
import { printable } from '../../printable.js';
import { redact, urlHasCredentials } from '../../secrets/redact.js';
import { BatchJobService, OneoffInputError } from '../../service/batch-jobs/index.js';

/** What the one-off job commands need from the outside world; tests replace each part. */
export interface OneoffDeps {
  env?: NodeJS.ProcessEnv;
  /** Receives everything a command prints for the user (default: standard output). */
  print?: (text: string) => void;
  createClient?: (options: GeminiClientOptions) => GeminiClient;
}

/** Raised when no API key is set and no emulator is targeted. */
export class OneoffApiKeyError extends WavebatchError {
  readonly code = 'API_KEY_MISSING';
  constructor() {
    super(
      'No API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or pass --base-url / WAVEBATCH_BASE_URL to use the emulator.',
    );
  }
}

/** `--base-url <url>`; the key is deliberately not an option, so it never lands in shell history. */
export function baseUrlOption(): Option {
  return new Option('--base-url <url>', 'API endpoint, e.g. a local emulator (env WAVEBATCH_BASE_URL)');
}

/** Builds the client from --base-url and the environment (GEMINI_API_KEY, then GOOGLE_API_KEY). */
export function clientFor(options: { baseUrl?: string }, deps: OneoffDeps): GeminiClient {
  const env = deps.env ?? process.env;
  const baseUrl = options.baseUrl ?? (env.WAVEBATCH_BASE_URL || undefined);
  if (baseUrl !== undefined && !/^https?:\/\//.test(baseUrl)) {
    throw new OneoffInputError(`--base-url must be an http(s) URL, got ${JSON.stringify(redact(baseUrl))}.`);
  }
  if (baseUrl !== undefined && urlHasCredentials(baseUrl)) {
    throw new OneoffInputError(
      '--base-url (or WAVEBATCH_BASE_URL) must not hold credentials (user:password@, or a key= / token= query); ' +
        'the API key comes only from GEMINI_API_KEY or GOOGLE_API_KEY.',
    );
  }
  // The emulator ignores the key; any placeholder will do there.
  const apiKey = env.GEMINI_API_KEY || env.GOOGLE_API_KEY || (baseUrl ? PLACEHOLDER_API_KEY : undefined);
  if (!apiKey) throw new OneoffApiKeyError();
  return (deps.createClient ?? createGeminiClient)({
    apiKey,
    ...(baseUrl ? { baseUrl } : {}),
    baseUrlSetting: ONEOFF_BASE_URL_SETTING,
  });
}

/** The batch-job service over the client `clientFor` builds. */
export function serviceFor(options: { baseUrl?: string }, deps: OneoffDeps): BatchJobService {
  return new BatchJobService(clientFor(options, deps));
}

/**
 * What chooses the one-off commands' API root, for the advice of their errors: they read no config,
 * so a workload's api.base_url (in the folder they run in) does not apply, which the advice says.
 */
const ONEOFF_BASE_URL_SETTING =
  "--base-url / WAVEBATCH_BASE_URL (the one-off job commands do not read a workload config's api.base_url)";

/**
 * The printer commands write to. What they print comes from the API (job names, display names,
 * states, error messages: another tool's jobs, or an API at a base URL that is not Google's), so
 * every control character is written as `\uXXXX`: inside JSON that is the same string, and text
 * cannot move the cursor or clear the screen. Nothing they print needs a control character.
 */
export function printerFor(deps: OneoffDeps): (text: string) => void {
  const print = deps.print ?? ((text: string) => void process.stdout.write(text));
  return (text) => print(printable(text));
}
