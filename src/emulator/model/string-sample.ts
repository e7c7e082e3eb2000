import { samplePattern } from './pattern-sample.js';
import type { Random } from '../seeded-random.js';

/** What a string is generated from: the schema's constraints, the label (property name) and the prompt digest. */
export interface StringSpec {
  label: string;
  digest: string;
  format?: unknown;
  pattern?: unknown;
  minLength?: unknown;
  maxLength?: unknown;
}

function slug(label: string): string {
  return (
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'value'
  );
}

/** Digest bytes as numbers, to derive dates and addresses that vary with the prompt. */
function digestNumbers(digest: string): number[] {
  const numbers: number[] = [];
  for (let i = 0; i + 1 < digest.length; i += 2)
    numbers.push(Number.parseInt(digest.slice(i, i + 2), 16) || 0);
  return numbers;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A valid example of a string format. Where the format allows, the digest is embedded (email, uri,
 * uuid, hostname); dates and times cannot hold it, so they are derived from it instead.
 */
function formatted(format: string, label: string, digest: string): string | undefined {
  const [a = 0, b = 0, c = 0, d = 0] = digestNumbers(digest);
  const date = `${2000 + (a % 26)}-${pad2(1 + (b % 12))}-${pad2(1 + (c % 28))}`;
  const time = `${pad2(d % 24)}:${pad2(a % 60)}:${pad2(b % 60)}`;
  switch (format) {
    case 'date':
      return date;
    case 'date-time':
      return `${date}T${time}Z`;
    case 'time':
      return `${time}Z`;
    case 'email':
    case 'idn-email':
      return `${slug(label)}.${digest}@example.com`;
    case 'uri':
    case 'url':
    case 'iri':
    case 'uri-reference':
    case 'iri-reference':
      return `https://example.com/${slug(label)}/${digest}`;
    case 'uuid':
      return `${digest.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${digest.padEnd(12, '0').slice(0, 12)}`;
    case 'hostname':
    case 'idn-hostname':
      return `${slug(label)}-${digest}.example.com`;
    case 'ipv4':
      return `10.${a}.${b}.${c}`;
    case 'ipv6':
      return `fd00::${digest.slice(0, 4) || '0'}:${digest.slice(4, 8) || '0'}`;
    case 'duration':
      return `P${1 + (a % 28)}DT${d % 24}H`;
    default:
      return undefined;
  }
}

function asCount(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** Fits a free-form string into [minLength, maxLength] code points, keeping the digest when it can. */
function fitLength(
  text: string,
  digest: string,
  minLength: number | undefined,
  maxLength: number | undefined,
): string {
  let chars = Array.from(text);
  if (maxLength !== undefined && chars.length > maxLength) {
    const tail = Array.from(`·${digest}`);
    if (maxLength >= tail.length + 1) chars = [...chars.slice(0, maxLength - tail.length), ...tail];
    else chars = Array.from(digest).slice(0, maxLength);
  }
  const filler = Array.from(`-${digest}`);
  for (let i = 0; minLength !== undefined && chars.length < minLength; i++)
    chars.push(filler[i % filler.length] ?? '-');
  return chars.join('');
}

function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return true;
  }
}

/** A string satisfying format, pattern and length constraints, embedding `label·digest` when free-form. */
export function sampleString(spec: StringSpec, random: Random): string {
  const minLength = asCount(spec.minLength);
  const maxLength = asCount(spec.maxLength);
  const format =
    typeof spec.format === 'string' ? formatted(spec.format, spec.label, spec.digest) : undefined;
  const plain = format ?? fitLength(`${spec.label}·${spec.digest}`, spec.digest, minLength, maxLength);
  if (typeof spec.pattern !== 'string' || matches(spec.pattern, plain)) return plain;
  const fromPattern = samplePattern(
    spec.pattern,
    { digest: spec.digest, label: spec.label, minLength, maxLength },
    random,
  );
  return fromPattern ?? plain;
}
