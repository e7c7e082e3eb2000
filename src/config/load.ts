import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { findSecretKeys, schemaIssues, secretKeyIssues, sortByLine, type LineFinder } from './issues.js';
import { importConfigModule } from './module-config.js';
import { resolveConfig } from './references.js';
import { configSchema } from './schema.js';
import type { LoadedConfig } from './types.js';
import { parseYamlConfig } from './yaml-document.js';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const YAML_ONLY_MESSAGE = 'functions can only be given in a TypeScript or JavaScript config (wavebatch.ts)';

/**
 * Loads a workload config (`.yaml`/`.yml`, or `.ts`/`.mts`/`.js`/`.mjs` default-exporting
 * `defineWorkload`), validates it against `configSchema` and resolves its paths and API key.
 * Throws ConfigError listing every problem with its file, key and line.
 */
export async function loadConfig(
  path: string,
  env: Record<string, string | undefined> = process.env,
): Promise<LoadedConfig> {
  const configPath = resolve(path);
  const file = displayPath(configPath);
  const isModule = MODULE_EXTENSIONS.has(extname(configPath).toLowerCase());

  const text = await (isModule ? readFile(configPath) : readFile(configPath, 'utf8')).then(
    (content) => (typeof content === 'string' ? content : undefined),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') throw notFound(file, configPath);
      throw error;
    },
  );

  let data: unknown;
  let lineOf: LineFinder = () => undefined;
  if (text === undefined) {
    data = await importConfigModule(configPath, file);
  } else {
    const document = parseYamlConfig(text, file);
    data = withoutEmptySections(document.data ?? {});
    lineOf = document.lineOf;
  }

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

  return resolveConfig(parsed.data, { configPath, display: displayPath, lineOf, env });
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
