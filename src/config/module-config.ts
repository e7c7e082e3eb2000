import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config-error.js';
import { describeError } from '../errors.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/** Imports a TypeScript / JavaScript config and returns its default export. */
export async function importConfigModule(path: string, displayName: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  let module: { default?: unknown };
  try {
    if (TYPESCRIPT.has(extname(path))) {
      const tsImport = await typescriptImporter(displayName);
      module = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } else {
      module = (await import(url)) as { default?: unknown };
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = describeError(error);
    throw new ConfigError('CONFIG_IMPORT_FAILED', [
      { file: displayName, message: `could not be imported: ${message}` },
    ]);
  }
  // A CommonJS-compiled config arrives as { default: { default: definition } }.
  let definition = module.default;
  if (isObject(definition) && Object.keys(definition).length === 1 && isObject(definition.default))
    definition = definition.default;
  if (definition === undefined) {
    throw new ConfigError('CONFIG_INVALID', [
      { file: displayName, message: 'has no default export: write `export default defineWorkload({ ... })`' },
    ]);
  }
  return definition;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** tsx's scoped importer, loaded on demand: YAML users never pay for (or need) the TypeScript loader. */
async function typescriptImporter(
  displayName: string,
): Promise<(url: string, parent: string) => Promise<unknown>> {
  try {
    return (await import('tsx/esm/api')).tsImport;
  } catch {
    throw new ConfigError('CONFIG_IMPORT_FAILED', [
      {
        file: displayName,
        message:
          'TypeScript configs need the tsx package (npm install tsx), or write the config as wavebatch.mjs',
      },
    ]);
  }
}
