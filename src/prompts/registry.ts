import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PromptError } from './errors.js';
import { templateText } from './template-text.js';

/** Where the parts of one prompt version live: `<dir>/<name>/<version>.jinja` and its system instruction. */
export interface PromptFiles {
  folder: string;
  templatePath: string;
  templateSource: string;
  systemPath: string | null;
  systemSource: string | null;
}

/** A safe path segment: letters, digits, '.', '_', '-'; no '..' so it can never climb out of the registry. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;
const TEMPLATE_SUFFIX = '.jinja';
const SYSTEM_SUFFIX = '.system.jinja';
const SHARED_SYSTEM = 'system.jinja';

/** Rejects names and versions that are not plain path segments or that would name a system file. */
export function assertSafeNames(name: string, version: string): void {
  for (const [label, value] of [
    ['name', name],
    ['version', version],
  ] as const) {
    if (typeof value !== 'string' || !SEGMENT.test(value) || value.includes('..')) {
      throw new PromptError(
        'PROMPT_NAME_INVALID',
        `Prompt ${label} ${JSON.stringify(value)} is not allowed: use letters, digits, '.', '_' or '-' (no '/', no '..', at most 100 characters).`,
      );
    }
  }
  // `system` and `<v>.system` would load a system instruction as if it were the prompt itself.
  if (version === 'system' || version.endsWith('.system')) {
    throw new PromptError(
      'PROMPT_NAME_INVALID',
      `Prompt version ${JSON.stringify(version)} is reserved for system instructions; pick another version name.`,
    );
  }
}

/** Reads the template and its system instruction (`<version>.system.jinja`, else `system.jinja`, else none). */
export async function readPromptFiles(dir: string, name: string, version: string): Promise<PromptFiles> {
  assertSafeNames(name, version);
  const folder = join(dir, name);
  const templatePath = join(folder, `${version}${TEMPLATE_SUFFIX}`);
  const templateSource = await readOptional(templatePath);
  if (templateSource === null) throw await notFound(dir, name, version);
  for (const candidate of [`${version}${SYSTEM_SUFFIX}`, SHARED_SYSTEM]) {
    const systemPath = join(folder, candidate);
    const systemSource = await readOptional(systemPath);
    if (systemSource !== null) return { folder, templatePath, templateSource, systemPath, systemSource };
  }
  return { folder, templatePath, templateSource, systemPath: null, systemSource: null };
}

/** The versions present in a prompt folder, in natural order (v2 before v10). */
export async function listVersions(dir: string, name: string): Promise<string[]> {
  const entries = await readdirOptional(join(dir, name));
  return entries
    .filter(
      (file) =>
        file.endsWith(TEMPLATE_SUFFIX) &&
        !file.endsWith(SYSTEM_SUFFIX) &&
        file !== SHARED_SYSTEM &&
        !file.startsWith('.'),
    )
    .map((file) => file.slice(0, -TEMPLATE_SUFFIX.length))
    .sort(naturalOrder);
}

async function notFound(dir: string, name: string, version: string): Promise<PromptError> {
  const versions = await listVersions(dir, name);
  if (versions.length > 0) {
    return new PromptError(
      'PROMPT_NOT_FOUND',
      `Prompt ${name} has no version ${version} (no ${join(dir, name, `${version}${TEMPLATE_SUFFIX}`)}); existing versions: ${versions.join(', ')}.`,
    );
  }
  const names = (await readdirOptional(dir, true))
    .filter((entry) => !entry.startsWith('.'))
    .sort(naturalOrder);
  const known = names.length > 0 ? `prompts in ${dir}: ${names.join(', ')}` : `${dir} holds no prompts`;
  return new PromptError(
    'PROMPT_NOT_FOUND',
    `Prompt ${name} has no versions (expected ${join(dir, name, `${version}${TEMPLATE_SUFFIX}`)}); ${known}.`,
  );
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return templateText(await readFile(path), path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

async function readdirOptional(path: string, directoriesOnly = false): Promise<string[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries
      .filter((entry) => (directoriesOnly ? entry.isDirectory() : entry.isFile()))
      .map((entry) => entry.name);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

const collator = new Intl.Collator('en', { numeric: true });
function naturalOrder(a: string, b: string): number {
  return collator.compare(a, b);
}
