import { stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { nearestExisting } from '../nearest-existing.js';
import { isInside } from '../path-inside.js';
import { ConfigError, type ConfigErrorCode, type ConfigIssue } from './config-error.js';
import { outputFieldProblem } from './output-field.js';
import { keyPath, sortByLine, type LineFinder } from './issues.js';
import { checkResponseSchema, readResponseSchemaFile, type SchemaOutcome } from './response-schema.js';
import type { ParsedConfig } from './schema.js';
import type { LoadedConfig, SourceConfig } from './types.js';
import { DEFAULT_SHARD_BYTES } from '../outputs/jsonl-sink.js';

/** What resolving a parsed config needs to know about where it came from. */
export interface ResolveContext {
  configPath: string;
  /** How files are named in messages (relative to the working folder when inside it). */
  display: (path: string) => string;
  lineOf: LineFinder;
  env: Record<string, string | undefined>;
}

type Found = { issue: ConfigIssue; code: ConfigErrorCode };

/**
 * Makes every path absolute, checks that referenced files exist, loads the response schema and picks
 * the API key from the environment. All problems are reported together.
 */
export async function resolveConfig(parsed: ParsedConfig, context: ResolveContext): Promise<LoadedConfig> {
  const folder = dirname(context.configPath);
  const absolute = (path: string) => resolve(folder, path);
  const problems: Found[] = [];
  const file = context.display(context.configPath);
  const report = (code: ConfigErrorCode, path: PropertyKey[], message: string) => {
    const line = context.lineOf(path);
    problems.push({
      code,
      issue: { file, key: keyPath(path), message, ...(line === undefined ? {} : { line }) },
    });
  };
  const requireExisting = async (path: PropertyKey[], written: string, kind: 'file' | 'folder') => {
    const found = await stat(absolute(written)).catch(() => undefined);
    const wrongKind = found && (kind === 'file' ? !found.isFile() : !found.isDirectory());
    if (!found || wrongKind) {
      const what = wrongKind ? `is not a ${kind}` : 'does not exist';
      report('CONFIG_FILE_MISSING', path, `${kind} "${written}" ${what} (looked at ${absolute(written)})`);
    }
    return Boolean(found) && !wrongKind;
  };

  const source = resolveSource(parsed, absolute);
  if (parsed.source && parsed.source.type !== 'function') {
    await requireExisting(
      ['source', 'path'],
      parsed.source.path,
      parsed.source.type === 'directory' ? 'folder' : 'file',
    );
    if (parsed.source.type === 'directory' && parsed.source.allow_list)
      await requireExisting(['source', 'allow_list'], parsed.source.allow_list, 'file');
    if (parsed.source.type !== 'directory' && parsed.source.media_root)
      await requireExisting(['source', 'media_root'], parsed.source.media_root, 'folder');
  }
  await requireExisting(['prompt', 'dir'], parsed.prompt.dir, 'folder');
  // Checked now, before anything is sent: a file in the way would otherwise fail the first write,
  // for outputs only once a job has been paid for.
  const outputs =
    typeof parsed.outputs === 'string'
      ? { path: parsed.outputs, key: ['outputs'], sink: 'files' as const, shard_bytes: DEFAULT_SHARD_BYTES }
      : { ...parsed.outputs, key: ['outputs', 'path'] };
  for (const [path, key] of [
    [parsed.data_dir, ['data_dir']],
    [outputs.path, outputs.key],
  ] as const) {
    const blocker = await fileInTheWay(absolute(path));
    if (blocker === undefined) continue;
    const what =
      blocker === absolute(path)
        ? `"${path}" is a file, not a folder (${blocker})`
        : `"${path}" cannot be a folder: ${blocker} is a file`;
    report('CONFIG_PATH_NOT_FOLDER', [...key], `${what}; name a folder, or move the file away`);
  }

  const written = typeof parsed.outputs === 'string' ? undefined : parsed.outputs.assemble;
  const assemble = written ? { ...written, path: absolute(written.path) } : undefined;
  if (assemble) {
    // Overlapping folders would mix documents and outputs: a chain named like a shard, or an output
    // folder listing assembled files.
    const out = absolute(outputs.path);
    if (isInside(assemble.path, out) || isInside(out, assemble.path))
      report(
        'CONFIG_PATH_NOT_FOLDER',
        ['outputs', 'assemble', 'path'],
        `"${written?.path}" overlaps the output folder ${out}; name a folder beside it`,
      );
    else {
      const blocker = await fileInTheWay(assemble.path);
      if (blocker !== undefined)
        report(
          'CONFIG_PATH_NOT_FOLDER',
          ['outputs', 'assemble', 'path'],
          `${blocker} is a file, so "${assemble.path}" cannot be a folder; name a folder, or move the file away`,
        );
    }
  }

  const writtenFolders: Array<readonly [string, readonly PropertyKey[]]> = [
    [parsed.data_dir, ['data_dir']],
    [outputs.path, outputs.key],
    ...(written ? [[written.path, ['outputs', 'assemble', 'path']] as const] : []),
  ];
  // `outputs: prompts` was accepted: every output and the state store landed among the templates,
  // where a record id like `page/v2` wrote beside the prompt version of the same name.
  const promptDir = absolute(parsed.prompt.dir);
  for (const [path, key] of writtenFolders)
    if (isInside(absolute(path), promptDir))
      report(
        'CONFIG_INVALID',
        [...key],
        `"${path}" is inside the prompt folder ${promptDir} (prompt.dir), which holds the templates; name a folder outside it`,
      );

  if (source.type === 'directory') {
    // The sync reads every visible folder of the dataset: an output, an assembled document or a run
    // report written inside it came back as a page of the next sync (`1901.md` is page 1901), a new
    // record sent and billed, its own output then read as another.
    for (const [path, key] of writtenFolders)
      if (readBySync(absolute(path), source.path))
        report(
          'CONFIG_INVALID',
          [...key],
          `"${path}" is inside the dataset folder ${source.path} (source.path): the sync would read what is written there as pages; name a folder outside it`,
        );
  }

  let responseSchema: unknown;
  const schemaFile = parsed.model.response_schema_file;
  if (schemaFile && (await requireExisting(['model', 'response_schema_file'], schemaFile, 'file'))) {
    const outcome = await readResponseSchemaFile(absolute(schemaFile));
    if ('problem' in outcome && outcome.syntax) {
      const { line, column } = outcome.syntax;
      problems.push({
        code: 'CONFIG_SYNTAX',
        issue: {
          file: context.display(absolute(schemaFile)),
          line,
          message: `${outcome.problem} (column ${column})`,
        },
      });
    } else {
      responseSchema = schemaOrReport(outcome, ['model', 'response_schema_file'], report);
    }
  } else if (parsed.model.response_schema !== undefined) {
    responseSchema = schemaOrReport(
      checkResponseSchema(parsed.model.response_schema),
      ['model', 'response_schema'],
      report,
    );
  }

  const contextField = parsed.context?.field;
  if (responseSchema !== undefined && contextField !== undefined && !parsed.hooks?.extractContext) {
    const problem = outputFieldProblem(
      responseSchema as object,
      contextField,
      "every record's context would be null",
    );
    if (problem) report('CONFIG_INVALID', ['context', 'field'], problem);
  }
  if (responseSchema !== undefined && assemble?.field !== undefined) {
    const problem = outputFieldProblem(
      responseSchema as object,
      assemble.field,
      'every assembled document would hold nothing but its gap marks',
    );
    if (problem) report('CONFIG_INVALID', ['outputs', 'assemble', 'field'], problem);
  }

  const [first, ...rest] = sortByLine(problems.map((problem) => ({ ...problem, line: problem.issue.line })));
  if (first) throw new ConfigError(first.code, [first.issue, ...rest.map((problem) => problem.issue)]);

  const apiKey = pickApiKey(context.env);
  const { response_schema_file: _file, response_schema: _inline, ...model } = parsed.model;
  return {
    configPath: context.configPath,
    name: parsed.name,
    data_dir: absolute(parsed.data_dir),
    outputs: absolute(outputs.path),
    output_sink: { kind: outputs.sink, shard_bytes: outputs.shard_bytes },
    ...(assemble ? { assemble } : {}),
    source,
    prompt: { ...parsed.prompt, dir: absolute(parsed.prompt.dir) },
    ...(parsed.context ? { context: parsed.context } : {}),
    model: {
      ...model,
      ...(responseSchema === undefined ? {} : { response_schema: responseSchema }),
      ...(schemaFile ? { response_schema_file: absolute(schemaFile) } : {}),
    },
    execution: parsed.execution,
    api: parsed.api,
    pricing: parsed.pricing,
    limits: parsed.limits,
    ...(apiKey ? { apiKey } : {}),
    ...(parsed.hooks ? { hooks: parsed.hooks } : {}),
  };
}

/**
 * The path itself, or its nearest existing ancestor, when that is not a folder; undefined when the
 * folder can exist (or the walk meets a level it may not look at: the run's own check says why).
 */
async function fileInTheWay(path: string): Promise<string | undefined> {
  const found = await nearestExisting(path).catch(() => undefined);
  return found && !found.stats.isDirectory() ? found.path : undefined;
}

/** GEMINI_API_KEY wins over GOOGLE_API_KEY, as in Google's own SDK; blank values count as unset. */
export function pickApiKey(env: Record<string, string | undefined>): string | undefined {
  return (
    [env.GEMINI_API_KEY, env.GOOGLE_API_KEY].map((value) => value?.trim()).find((value) => value) || undefined
  );
}

/** Whether a directory source rooted at `root` reads `folder`: inside it, and no hidden folder on the way. */
function readBySync(folder: string, root: string): boolean {
  if (!isInside(folder, root)) return false;
  return !relative(root, folder)
    .split(sep)
    .some((segment) => segment.startsWith('.'));
}

function resolveSource(parsed: ParsedConfig, absolute: (path: string) => string): SourceConfig {
  const source = parsed.source;
  if (!source) {
    // The schema guarantees one of source and hooks.source.
    const records = parsed.hooks?.source;
    if (!records) throw new Error('unreachable: a validated config without a source');
    return { type: 'function', records };
  }
  switch (source.type) {
    case 'function':
      return source;
    case 'directory': {
      const extensions = source.extensions.map(
        (extension) => `.${extension.replace(/^\./, '').toLowerCase()}`,
      );
      return {
        ...source,
        path: absolute(source.path),
        extensions,
        ...(source.allow_list ? { allow_list: absolute(source.allow_list) } : {}),
      };
    }
    default:
      return {
        ...source,
        path: absolute(source.path),
        ...(source.media_root ? { media_root: absolute(source.media_root) } : {}),
      };
  }
}

function schemaOrReport(
  outcome: SchemaOutcome,
  path: PropertyKey[],
  report: (code: ConfigErrorCode, path: PropertyKey[], message: string) => void,
): object | undefined {
  if ('schema' in outcome) return outcome.schema;
  report('CONFIG_INVALID', path, outcome.problem);
  return undefined;
}
