import { relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_PATH } from '../config/json-schema.js';

/** The package's own JSON Schema file for `wavebatch.yaml` (src/ and dist/ sit at the same depth). */
export const PACKAGE_SCHEMA_FILE = fileURLToPath(
  new URL(`../../${CONFIG_JSON_SCHEMA_PATH}`, import.meta.url),
);

/**
 * The published JSON Schema for a config's modeline in `folder`: relative when the package sits in
 * the project (node_modules) or holds the folder (its examples), absolute otherwise (a global install).
 */
export function schemaReference(folder: string): string {
  const packageRoot = resolve(PACKAGE_SCHEMA_FILE, '..', '..');
  const fromFolder = relative(folder, PACKAGE_SCHEMA_FILE).split(sep).join('/');
  const inside = (child: string, parent: string) => !relative(parent, child).startsWith('..');
  return inside(folder, packageRoot) || fromFolder.includes('node_modules/')
    ? fromFolder
    : PACKAGE_SCHEMA_FILE;
}
