import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { utf8Fault } from '../jsonl/utf8.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { findSecretKeys, schemaIssues, secretKeyIssues, sortByLine, type LineFinder } from './issues.js';
import { importConfigModule } from './module-config.js';
import { resolveConfig } from './references.js';
import { configSchema, type WorkloadDefinition } from './schema.js';
import type { LoadedConfig } from './types.js';
import { parseYamlConfig } from './yaml-document.js';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const YAML_ONLY_MESSAGE = 'functions can only be given in a TypeScript or JavaScript config (wavebatch.ts)';

/** What the library's entry points take as a workload: a config file path, a definition, or a loaded config. */
export type WorkloadConfigInput = string | WorkloadDefinition | LoadedConfig;

/**
 * The loaded config of what a program gave: a loaded config as it is (it carries its `configPath`),
 * a path or a definition loaded by `loadConfig`.
 */
export async function loadedConfigOf(
  config: WorkloadConfigInput,
  env: Record<string, string | undefined> = process.env,
): Promise<LoadedConfig> {
  if (
    typeof config === 'object' &&
    config !== null &&
    typeof (config as Partial<LoadedConfig>).configPath === 'string'
  )
    return config as LoadedConfig;
  return loadConfig(config as string | WorkloadDefinition, env);
}

/** How a workload definition given in code (not read from a file) is named in messages. */
export const DEFINITION_IN_CODE = 'the workload definition';

/**
 * Loads a workload config (`.yaml`/`.yml`, or `.ts`/`.mts`/`.js`/`.mjs` default-exporting
 * `defineWorkload`), validates it against `configSchema` and resolves its paths and API key.
 * Given a definition object instead of a path (`defineWorkload({...})` in the program itself), it is
 * checked and resolved as a `wavebatch.ts` in the working folder holding it would be: its relative
 * paths are relative to the working folder, and `configPath` is that `wavebatch.ts` (never read).
 * Throws ConfigError listing every problem with its file (or DEFINITION_IN_CODE), key and line.
 */
export async function loadConfig(
  pathOrDefinition: string | WorkloadDefinition,
  env: Record<string, string | undefined> = process.env,
): Promise<LoadedConfig> {
  if (typeof pathOrDefinition !== 'string') return loadDefinition(pathOrDefinition, env);
  const configPath = resolve(pathOrDefinition);
  const file = displayPath(configPath);
  const isModule = MODULE_EXTENSIONS.has(extname(configPath).toLowerCase());

  const bytes = await readFile(configPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'EISDIR') throw notFound(file, configPath);
    throw error;
  });
  const text = isModule ? undefined : yamlText(bytes, file);

  let data: unknown;
  let lineOf: LineFinder = () => undefined;
  if (text === undefined) {
    data = await importConfigModule(configPath, file);
  } else {
    const document = parseYamlConfig(text, file);
    data = withoutEmptySections(document.data ?? {});
    lineOf = document.lineOf;
  }

  return validateAndResolve(data, { configPath, file, isModule, lineOf, env, display: displayPath });
}

/**
 * A definition object from the program: validated as a module's default export is (functions
 * allowed), with nothing to name in messages but DEFINITION_IN_CODE. Without this, a definition
 * passed where a path or a loaded config goes failed deep inside with a TypeError.
 */
async function loadDefinition(
  definition: unknown,
  env: Record<string, string | undefined>,
): Promise<LoadedConfig> {
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    throw new ConfigError('CONFIG_INVALID', [
      {
        file: DEFINITION_IN_CODE,
        message: `expected a config file path or a defineWorkload({...}) object, got ${definition === null ? 'null' : Array.isArray(definition) ? 'an array' : typeof definition}`,
      },
    ]);
  }
  const configPath = resolve('wavebatch.ts');
  const display = (path: string) => (path === configPath ? DEFINITION_IN_CODE : displayPath(path));
  return validateAndResolve(definition, {
    configPath,
    file: DEFINITION_IN_CODE,
    isModule: true,
    lineOf: () => undefined,
    env,
    display,
  });
}

/** Where the data to validate came from, and how its problems are named. */
interface ConfigOrigin {
  configPath: string;
  file: string;
  /** TypeScript or JavaScript (or the program itself): functions may be given. */
  isModule: boolean;
  lineOf: LineFinder;
  env: Record<string, string | undefined>;
  display: (path: string) => string;
}

async function validateAndResolve(data: unknown, origin: ConfigOrigin): Promise<LoadedConfig> {
  const { configPath, file, isModule, lineOf, env, display } = origin;
  const secretKeys = findSecretKeys(data);
  const issues: ConfigIssue[] = secretKeyIssues(secretKeys, file, lineOf);
  const skip = [...secretKeys];
  if (!isModule) {
    for (const path of yamlOnlyFunctionKeys(data)) {
      const line = lineOf(path);
      issues.push({
        file,
        key: path.join('.'),
        message: YAML_ONLY_MESSAGE,
        ...(line === undefined ? {} : { line }),
      });
      skip.push(path);
    }
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const secrets = [env.GEMINI_API_KEY, env.GOOGLE_API_KEY]
      .map((value) => value?.trim() ?? '')
      .filter((value) => value.length >= 8);
    issues.push(...schemaIssues(parsed.error, { data, file, lineOf, skip, secrets }));
  }
  const [first, ...rest] = sortByLine(issues);
  if (first) throw new ConfigError('CONFIG_INVALID', [first, ...rest]);
  if (!parsed.success) throw new Error('unreachable: schema failed without issues');

  return resolveConfig(parsed.data, { configPath, display, lineOf, env });
}

/** A YAML section left empty (`execution:` with every line commented out) means "all defaults". */
function withoutEmptySections(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== null));
}

/** `source.type: function` and `hooks` need code, which a YAML file cannot hold. */
function yamlOnlyFunctionKeys(data: unknown): string[][] {
  if (typeof data !== 'object' || data === null) return [];
  const record = data as { source?: { type?: unknown }; hooks?: unknown };
  const found: string[][] = [];
  if (record.source?.type === 'function') found.push(['source']);
  if (record.hooks !== undefined) found.push(['hooks']);
  return found;
}

function notFound(file: string, absolute: string): ConfigError {
  return new ConfigError('CONFIG_NOT_FOUND', [
    { file, message: `config file not found (looked at ${absolute})` },
  ]);
}

/** Relative to the working folder when inside it (as the user typed it), absolute otherwise. */
function displayPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere && !fromHere.startsWith('..') && !isAbsolute(fromHere) ? fromHere : path;
}

/**
 * The YAML config's text. A byte that is not UTF-8 (a Latin-1 `é`) is refused with its line: read
 * as UTF-8 it became U+FFFD, and a path holding it named a file that is not there.
 */
function yamlText(bytes: Buffer, file: string): string {
  const fault = utf8Fault(bytes);
  if (fault) {
    throw new ConfigError('CONFIG_SYNTAX', [
      {
        file,
        line: fault.line,
        message: `byte ${fault.byteOffset} of the file is not valid UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
      },
    ]);
  }
  return bytes.toString('utf8');
}
