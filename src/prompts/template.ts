import nunjucks from 'nunjucks';
import { sha256Hex } from '../sha256.js';
import { createPromptEnvironment, dropTrailingNewline } from './environment.js';
import { PromptError } from './errors.js';
import { freeNames, type FreeName } from './free-names.js';
import { guardedRender } from './sandbox.js';
import type { PromptFiles } from './registry.js';

/** A prompt rendered for one record. */
export interface RenderedPrompt {
  text: string;
  system: string | null;
  /** sha256 hex of the rendered system instruction and text, so versions and inputs can be compared. */
  hash: string;
}

/**
 * The variables a prompt sees: the record's fields and its predecessor's (extracted) output, or
 * null; for a grouped request (`records_per_request` > 1), `records` instead: each record's fields
 * with its own `context`, and `record` / `context` are those of the group's first record.
 */
export interface PromptVariables {
  record: Record<string, unknown>;
  context: unknown;
  records?: ReadonlyArray<Record<string, unknown>>;
}

/** One compiled prompt version, ready to render. */
export interface PromptTemplate {
  name: string;
  version: string;
  /** sha256 hex of every template source this version is made of (main, system, eager includes). */
  templateHash: string;
  /** The variable names its sources read (main, system, eager includes): `record`, `records`, `context`… */
  variables: ReadonlySet<string>;
  /** The record fields its sources name literally (`record.text`, `record['a b']`), for `config check`. */
  recordFields: ReadonlySet<string>;
  /** The names its sources read but never bind (`record`, `context`, a misspelt `recrod`…), for `config check`. */
  freeNames: readonly FreeName[];
  render(vars: PromptVariables): RenderedPrompt;
}

/** Names of templates pulled in with a literal string, compiled at load so their syntax errors surface early. */
const REFERENCE = /\{%-?\s*(?:include|extends|import|from)\s+(["'])([^"']+)\1/g;

/** Compiles the template and its system instruction; syntax errors become PROMPT_SYNTAX naming file and line. */
export function compilePrompt(name: string, version: string, files: PromptFiles): PromptTemplate {
  const { environment, loaded } = createPromptEnvironment(files.folder);
  const label = `${name}/${version}`;
  const main = compileFile(environment, files.templateSource, files.templatePath, label);
  const system =
    files.systemPath === null || files.systemSource === null
      ? null
      : compileFile(environment, files.systemSource, files.systemPath, label);
  // Includes compiled at load are part of what this version is, so they feed the hash too.
  const templateHash = sha256Hex(
    JSON.stringify([name, version, files.templateSource, files.systemSource, [...loaded.values()]]),
  );
  const variables = new Set<string>();
  const recordFields = new Set<string>();
  for (const source of [files.templateSource, files.systemSource, ...loaded.values()]) {
    if (source === null) continue;
    for (const name of variableNames(source)) variables.add(name);
    for (const field of recordFieldNames(source)) recordFields.add(field);
  }
  const sources: [string | null, string | null][] = [
    [files.templatePath, files.templateSource],
    [files.systemPath, files.systemSource],
    ...loaded.entries(),
  ];
  const free = sources.flatMap(([path, source]) =>
    path === null || source === null ? [] : freeNames(source, path),
  );
  return {
    name,
    version,
    templateHash,
    variables,
    recordFields,
    freeNames: free,
    render(vars: PromptVariables): RenderedPrompt {
      const text = renderFile(main, files.templatePath, label, vars);
      const systemText =
        system === null || files.systemPath === null
          ? null
          : renderFile(system, files.systemPath, label, vars);
      return { text, system: systemText, hash: renderedHash(systemText, text) };
    },
  };
}

/** The hash recorded with every result: the same rendered system + text always give the same hash. */
export function renderedHash(system: string | null, text: string): string {
  return sha256Hex(JSON.stringify([system, text]));
}

function compileFile(
  environment: nunjucks.Environment,
  source: string,
  path: string,
  label: string,
): nunjucks.Template {
  let template: nunjucks.Template;
  try {
    template = new nunjucks.Template(dropTrailingNewline(source), environment, path, true);
  } catch (error) {
    throw syntaxError(error, path, label);
  }
  assertKnownFilters(environment, source, path, label);
  for (const match of source.matchAll(REFERENCE)) {
    const reference = match[2] as string;
    try {
      environment.getTemplate(reference, true);
    } catch (error) {
      throw syntaxError(error, reference, label);
    }
  }
  return template;
}

/** The parts of nunjucks' parser used to find filters (its typings do not declare them). */
interface FilterNode {
  name?: { value?: unknown };
  lineno?: number;
}
interface ParsedTemplate {
  findAll(type: unknown): FilterNode[];
}
const parser = (
  nunjucks as unknown as {
    parser: { parse(src: string, extensions: unknown[], options: object): ParsedTemplate };
  }
).parser;
const filterNode = (nunjucks as unknown as { nodes: { Filter: unknown } }).nodes.Filter;
const symbolNode = (nunjucks as unknown as { nodes: { Symbol: unknown } }).nodes.Symbol;

/** The names a template source reads (loop variables included; a source that does not parse has none). */
function variableNames(source: string): string[] {
  try {
    const tree = parser.parse(dropTrailingNewline(source), [], {});
    return tree
      .findAll(symbolNode)
      .map((node) => (node as { value?: unknown }).value)
      .filter((name): name is string => typeof name === 'string');
  } catch {
    return [];
  }
}

const lookupNode = (nunjucks as unknown as { nodes: { LookupVal: unknown } }).nodes.LookupVal;

/** The fields a template source reads off `record` by a literal name (none when it does not parse). */
function recordFieldNames(source: string): string[] {
  try {
    const tree = parser.parse(dropTrailingNewline(source), [], {});
    return tree.findAll(lookupNode).flatMap((node) => {
      const { target, val } = node as { target?: { value?: unknown }; val?: { value?: unknown } };
      const isRecord = target?.value === 'record' && (target as { typename?: unknown }).typename === 'Symbol';
      return isRecord && typeof val?.value === 'string' ? [val.value] : [];
    });
  } catch {
    return [];
  }
}

/**
 * A grouped request (`records_per_request` > 1) renders many records into one prompt through
 * `records`: a template that never reads it would send every group the same text, and the model
 * would answer each record from nothing. Refused before anything is sent.
 */
export function assertPromptFitsGrouping(prompt: PromptTemplate, recordsPerRequest: number): void {
  if (recordsPerRequest <= 1 || prompt.variables.has('records')) return;
  throw new PromptError(
    'PROMPT_NOT_GROUPED',
    `Prompt ${prompt.name}/${prompt.version} never uses \`records\`, but execution.records_per_request is ${recordsPerRequest}: ` +
      'a grouped prompt must render every record of the group, e.g. {% for r in records %}Item {{ r.id }}: {{ r.text }}{% endfor %}. ' +
      'Write such a template (a new prompt version), or set records_per_request to 1.',
  );
}

/** Jinja rejects an unknown filter when it compiles a template; nunjucks only when it renders one. */
function assertKnownFilters(
  environment: nunjucks.Environment,
  source: string,
  path: string,
  label: string,
): void {
  const tree = parser.parse(dropTrailingNewline(source), [], {});
  for (const node of tree.findAll(filterNode)) {
    const name = node.name?.value;
    if (typeof name !== 'string') continue;
    try {
      environment.getFilter(name);
    } catch {
      const line = typeof node.lineno === 'number' ? ` at line ${node.lineno + 1}` : '';
      throw new PromptError('PROMPT_SYNTAX', `Prompt ${label}: unknown filter "${name}" in ${path}${line}.`);
    }
  }
}

function renderFile(template: nunjucks.Template, path: string, label: string, vars: PromptVariables): string {
  try {
    return guardedRender(() =>
      template.render({
        record: vars.record,
        context: vars.context,
        ...(vars.records ? { records: vars.records } : {}),
      }),
    );
  } catch (error) {
    const { line, detail } = describe(error);
    throw new PromptError(
      'PROMPT_RENDER',
      `Prompt ${label} failed to render ${path}${line ? ` at line ${line}` : ''}: ${detail}`,
      {
        cause: error,
      },
    );
  }
}

function syntaxError(error: unknown, path: string, label: string): PromptError {
  const { line, detail } = describe(error);
  return new PromptError(
    'PROMPT_SYNTAX',
    `Prompt ${label}: syntax error in ${path}${line ? ` at line ${line}` : ''}: ${detail}`,
    { cause: error },
  );
}

/** Longest reason kept from a nunjucks error: a template's own text can end up in it. */
const MAX_DETAIL = 2000;

/**
 * Pulls the line and the bare reason out of a nunjucks error ("(path) [Line 3, Column 5]\n  reason").
 * Each include level wraps the error once more ("(path)\n  Template render error: (path)\n  …"): a
 * template including itself failed with a 4 MB message, stored and printed with every record.
 */
function describe(error: unknown): { line: number | null; detail: string } {
  const message = error instanceof Error ? error.message : String(error);
  const position = /\[Line (\d+)(?:, Column \d+)?\]/.exec(message);
  const lineno = (error as { lineno?: unknown } | null)?.lineno;
  const line = position ? Number(position[1]) : typeof lineno === 'number' ? lineno : null;
  let detail =
    message
      .split('\n')
      .map((part) => part.trim().replace(/^Template render error: /, ''))
      .filter((part) => part !== '' && !/^\(.*\)( \[Line \d+(, Column \d+)?\])?$/.test(part))
      .join(' ') || message;
  if (/Maximum call stack size exceeded/.test(detail))
    detail = `${detail}: templates include or call each other too deeply (does an include or a macro call itself?)`;
  if (detail.length > MAX_DETAIL) detail = `${detail.slice(0, MAX_DETAIL)}…`;
  return { line, detail };
}
