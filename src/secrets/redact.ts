/**
 * The one redaction of secrets from text that came from outside (API answers, error messages) before
 * it is stored, printed or exported. It removes the configured keys by value (Gemini's, Braintrust's,
 * the OpenTelemetry exporters' header values), anything shaped like a Google API key or OAuth token,
 * bearer tokens, key-like query parameters and headers, and the credentials of URLs
 * (`https://user:pass@host`).
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/** Environment variables whose values are keys: Gemini's, and Braintrust's (its exporter's). */
const KEY_VARIABLES = ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'BRAINTRUST_API_KEY'] as const;

/**
 * The OpenTelemetry exporters' headers, `name=value,…` (values URL-encoded): what a collector is
 * told to authenticate with (`authorization=Basic …`, `x-honeycomb-team=…`, `dd-api-key=…`). Every
 * value is taken for a secret, whatever the header's name: no list of names knows every vendor's.
 */
const HEADER_VARIABLES = [
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'OTEL_EXPORTER_OTLP_LOGS_HEADERS',
] as const;

/** Shorter values are not redacted by value: replacing them everywhere would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8;

/** Keys this process was given in code (not only through the environment). */
const registered = new Set<string>();

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Google API keys: AIza and 35 more characters.
  [/AIza[0-9A-Za-z_-]{35}/g, REDACTED],
  // Google OAuth access tokens.
  [/\bya29\.[0-9A-Za-z_-]+/g, REDACTED],
  // Authorization: Bearer <token>
  [/\b(bearer\s+)[A-Za-z0-9._~+/-]+=*/gi, `$1${REDACTED}`],
  // ?key=… &api_key=… &access_token=…
  [/([?&](?:key|api[_-]?key|access[_-]?token|token)=)[^&\s"'<>]+/gi, `$1${REDACTED}`],
  // x-goog-api-key: … and "x-goog-api-key": "…"
  [/(x-goog-api-key["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, `$1${REDACTED}`],
  // scheme://user:password@host → scheme://[redacted]@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@"'<>]+(?::[^/\s@"'<>]*)?@/gi, `$1${REDACTED}@`],
];

/**
 * Text in which none of PATTERNS can match: each pattern needs one of these (case aside) to match.
 * Most text logged (every output of a run) holds none, and one search is far cheaper than six
 * replaces (at a million outputs, redaction was 12 µs of each record's apply).
 */
const MAY_HOLD_PATTERN = /AIza|ya29\.|bearer|key=|token=|x-goog-api-key|:\/\//i;

/** Marks `value` as a secret for the rest of the process (an API key passed in code, not the environment). */
export function registerSecret(value: string | undefined): void {
  const secret = value?.trim();
  if (secret && secret.length >= MIN_SECRET_LENGTH) registered.add(secret);
}

/** `text` without any secret: known keys by value, then every secret-shaped token. */
export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets()) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (!MAY_HOLD_PATTERN.test(out)) return out;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A JSON value itself unless its JSON holds a secret (a prompt that echoed a key): then the redacted copy. */
export function redactValue(value: unknown): unknown {
  const json = JSON.stringify(value) ?? 'null';
  const clean = redact(json);
  return clean === json ? value : (JSON.parse(clean) as unknown);
}

/** `redact` for nullable text. */
export function redactNullable(text: string | null): string | null {
  return text === null ? null : redact(text);
}

/** Query parameters that carry a credential (`?key=…` is how Google's REST API takes an API key). */
const CREDENTIAL_PARAMETERS =
  /^(key|api[-_]?key|x-goog-api-key|access[-_]?token|token|auth|password|secret)$/i;

/**
 * True when a URL names a user or password (`https://user:key@host`) or carries a credential in its
 * query (`?key=AIza…`, `?access_token=…`); such URLs are refused: `config check` printed a
 * `?key=` base URL as it was, and every log line and event would name it.
 */
export function urlHasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') return true;
    return [...parsed.searchParams.keys()].some((name) => CREDENTIAL_PARAMETERS.test(name));
  } catch {
    return false;
  }
}

/** True when `text` holds something `redact` would remove. */
export function holdsSecret(text: string): boolean {
  return redact(text) !== text;
}

/** The list knownSecrets last made, and what it was made from. */
let known: { registered: number; variables: Array<string | undefined>; secrets: string[] } | null = null;

/**
 * Longest first, so a key that contains another is removed whole. Made again only when a key was
 * registered or a key variable changed: it is asked for at every redaction (each record's output).
 */
function knownSecrets(): string[] {
  const variables = [...KEY_VARIABLES, ...HEADER_VARIABLES].map((name) => process.env[name]);
  if (
    known &&
    known.registered === registered.size &&
    known.variables.every((value, index) => value === variables[index])
  )
    return known.secrets;
  const secrets = new Set(registered);
  const add = (value: string | undefined) => {
    const secret = value?.trim();
    if (secret && secret.length >= MIN_SECRET_LENGTH) secrets.add(secret);
  };
  for (const variable of variables.slice(0, KEY_VARIABLES.length)) add(variable);
  for (const headers of variables.slice(KEY_VARIABLES.length))
    for (const value of headerValues(headers)) {
      add(value);
      // `Basic <credential>`, `Bearer <token>`: the credential alone is echoed too.
      for (const part of value.split(/\s+/)) add(part);
    }
  known = {
    registered: registered.size,
    variables,
    secrets: [...secrets].sort((a, b) => b.length - a.length),
  };
  return known.secrets;
}

/** The values of an OTEL_EXPORTER_OTLP_*HEADERS variable, as written and URL-decoded. */
function headerValues(headers: string | undefined): string[] {
  const values: string[] = [];
  for (const pair of headers?.split(',') ?? []) {
    const equals = pair.indexOf('=');
    if (equals < 0) continue;
    const value = pair.slice(equals + 1).trim();
    values.push(value);
    try {
      values.push(decodeURIComponent(value));
    } catch {
      // Not URL-encoded after all: the value as written is the one the exporter sends.
    }
  }
  return values;
}
