import { z } from 'zod';
import { holdsSecret } from '../secrets/redact.js';
import type { ConfigIssue } from './config-error.js';
import { isZodSchema } from './schema-parts.js';
import { configSchema } from './schema.js';

type Path = readonly PropertyKey[];
/** Finds the line of a key path in the config file (undefined for TS configs). */
export type LineFinder = (path: Path) => number | undefined;

const SECRET_KEY = /^api[_-]?key$/i;
const SECRET_ADVICE =
  'API keys do not belong in config files: remove this key and set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment';

/** `execution.max_retries`, `source.levels[1]` */
export function keyPath(path: Path): string {
  return path.reduce<string>(
    (text, segment) =>
      typeof segment === 'number'
        ? `${text}[${segment}]`
        : text
          ? `${text}.${String(segment)}`
          : String(segment),
    '',
  );
}

/** Every `api_key` / `apiKey` anywhere in the config: reported by key and line, never with its value. */
export function findSecretKeys(data: unknown): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  const seen = new Set<object>();
  const visit = (value: unknown, path: PropertyKey[]) => {
    if (typeof value !== 'object' || value === null || seen.has(value) || isZodSchema(value)) return;
    seen.add(value);
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, Array.isArray(value) ? Number(key) : key];
      if (SECRET_KEY.test(key)) found.push(childPath);
      else visit(child, childPath);
    }
  };
  visit(data, []);
  return found;
}

/** Issues for the secret keys found by `findSecretKeys`. */
export function secretKeyIssues(paths: PropertyKey[][], file: string, lineOf: LineFinder): ConfigIssue[] {
  return paths.map((path) => located({ file, key: keyPath(path), message: SECRET_ADVICE }, lineOf(path)));
}

/** What `schemaIssues` needs besides zod's error. */
export interface IssueContext {
  data: unknown;
  file: string;
  lineOf: LineFinder;
  /** Key paths already reported (secret keys, functions in YAML): their zod issues are dropped. */
  skip: PropertyKey[][];
  /** Values never to print (the API keys in the environment). */
  secrets: string[];
}

/** Turns zod's issues into config issues with key paths, lines and the offending values. */
export function schemaIssues(error: z.ZodError, context: IssueContext): ConfigIssue[] {
  const { data, file, lineOf, skip } = context;
  const issues: ConfigIssue[] = [];
  const skipped = (path: Path) =>
    skip.some((prefix) => prefix.every((segment, index) => path[index] === segment));
  for (const issue of error.issues.flatMap(unionBranchIssues)) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issue.path, data);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        if (skipped(path)) continue;
        const hint = allowed ? ` (allowed here: ${allowed.join(', ')})` : '';
        issues.push(located({ file, key: keyPath(path), message: `unknown key${hint}` }, lineOf(path)));
      }
      continue;
    }
    if (skipped(issue.path)) continue;
    const value = valueAt(data, issue.path);
    const expectation = describeExpectation(issue);
    // Refinements explain themselves; checks of what a value should be show the value refused.
    const showsValue = issue.code !== 'custom' || expectation.startsWith('expected');
    const message =
      value === undefined
        ? issue.code === 'custom'
          ? expectation
          : `required (${expectation})`
        : showsValue
          ? `${expectation}, got ${preview(value, context.secrets)}`
          : expectation;
    issues.push(located({ file, key: keyPath(issue.path) || '(top level)', message }, lineOf(issue.path)));
  }
  return sortByLine(issues);
}

/**
 * A union none of whose branches matched says only "expected a or b". When exactly one branch
 * accepted the value's type (a mapping where the other branch wants a string), that branch's own
 * issues say what is wrong inside it (`outputs.assemble.format: expected markdown or jsonl`).
 */
function unionBranchIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || !('errors' in issue) || !Array.isArray(issue.errors)) return [issue];
  const typed = issue.errors.filter(
    (branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
  );
  const [branch] = typed;
  if (typed.length !== 1 || !branch || branch.length === 0) return [issue];
  return branch.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue);
}

/** In file order; issues without a line (missing top-level keys) last, keeping their order. */
export function sortByLine<T extends { line?: number }>(issues: T[]): T[] {
  return [...issues].sort(
    (a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER),
  );
}

function describeExpectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `expected one of ${issue.options.map(String).join(', ')}`;
  }
  if (issue.code === 'invalid_value')
    return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input'))
    return `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected}`;
  return issue.message;
}

function located(issue: ConfigIssue, line: number | undefined): ConfigIssue {
  return line === undefined ? issue : { ...issue, line };
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function preview(value: unknown, secrets: string[]): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a mapping';
  if (typeof value === 'string' && (holdsSecret(value) || secrets.some((secret) => value.includes(secret)))) {
    return 'a value that looks like an API key (not shown)';
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The keys the schema accepts at `path` (following the source's `type`), for "unknown key" hints. */
function allowedKeys(path: Path, data: unknown): string[] | undefined {
  let schema: z.ZodType | undefined = configSchema;
  for (let depth = 0; depth <= path.length && schema; depth++) {
    schema = unwrap(schema, valueAt(data, path.slice(0, depth)));
    if (depth === path.length) break;
    const segment = path[depth];
    if (schema instanceof z.ZodObject && typeof segment === 'string')
      schema = (schema.shape as Record<string, z.ZodType>)[segment];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else schema = undefined;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      // A transformed object (execution's mode-dependent defaults): the keys are its input's.
      current = current.in as z.ZodType;
    } else if (current instanceof z.ZodDiscriminatedUnion) {
      const type = (value as { type?: unknown } | undefined)?.type;
      const options = current.options as z.ZodType[];
      const match = options.find(
        (option) =>
          option instanceof z.ZodObject &&
          (option.shape as { type?: z.ZodType }).type?.safeParse(type).success,
      );
      if (!match) return undefined;
      current = match;
    } else {
      return current;
    }
  }
}
