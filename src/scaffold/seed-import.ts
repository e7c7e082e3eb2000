import { opendir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { renderConfigYaml } from './config-yaml.js';
import { SeedConfigError } from './errors.js';
import type { ScaffoldFile } from './scaffold-file.js';
import { convertSeedConfig, type SeedConversion, type SeedFacts } from './seed-config.js';

/** A converted seed config: the files to write and the mapping report. */
export interface SeedImport {
  files: ScaffoldFile[];
  conversion: SeedConversion;
}

/** Reads a seed `config.yaml` and what it points at, and converts it into wavebatch files for `targetDir`. */
export async function importSeedConfig(
  seedPath: string,
  targetDir: string,
  options: { name: string; baseUrl?: string; schemaRef: string },
): Promise<SeedImport> {
  const absolute = resolve(seedPath);
  const text = await readFile(absolute, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new SeedConfigError(
      error.code === 'ENOENT'
        ? `seed config ${seedPath} does not exist; pass the path of the seed system's config.yaml`
        : `seed config ${seedPath} cannot be read: ${error.message}`,
      { cause: error },
    );
  });
  const document = parseDocument(text);
  const problem = document.errors[0];
  if (problem)
    throw new SeedConfigError(
      `seed config ${seedPath} line ${problem.linePos?.[0].line ?? '?'}: ${problem.message.split('\n')[0]}`,
    );
  const seed: unknown = document.toJS();
  const facts = await seedFacts(seed, dirname(absolute), resolve(targetDir));
  const conversion = convertSeedConfig(seed, facts, options);
  const files: ScaffoldFile[] = [
    {
      path: 'wavebatch.yaml',
      content: renderConfigYaml(conversion.config, {
        schemaRef: options.schemaRef,
        comments: [
          `Converted by \`wavebatch init --from-seed-config\` from ${seedPath}.`,
          '`npx wavebatch config check` validates it and prints every default; `npx wavebatch run` runs it.',
        ],
      }),
    },
  ];
  if (conversion.template)
    files.push({
      path: `prompts/${conversion.template.name}/${conversion.template.version}.jinja`,
      content: conversion.template.text,
    });
  return { files, conversion };
}

async function seedFacts(seed: unknown, seedDir: string, targetDir: string): Promise<SeedFacts> {
  const at = (path: unknown) =>
    typeof path === 'string' && path.trim() !== ''
      ? isAbsolute(path)
        ? path
        : resolve(seedDir, path)
      : null;
  const section = (key: string) =>
    typeof seed === 'object' && seed !== null ? (seed as Record<string, unknown>)[key] : undefined;
  const paths = (section('paths') ?? {}) as Record<string, unknown>;
  const prompt = (section('prompt') ?? {}) as Record<string, unknown>;
  const imageDir = at(paths.image_source_dir);
  const outputDir = at(paths.output_dir);
  return {
    seedDir,
    targetDir,
    datasetDepth: imageDir ? await firstFileDepth(imageDir, 0) : null,
    outputDirHasFiles: outputDir ? (await firstFileDepth(outputDir, 0)) !== null : false,
    template: await findTemplate(seedDir, prompt),
  };
}

/** How many folders deep the first (sorted) non-hidden file is, or null when there is none. */
async function firstFileDepth(folder: string, depth: number): Promise<number | null> {
  if (depth > 16) return null;
  let entries: Array<{ name: string; isFile: boolean; isFolder: boolean }>;
  try {
    entries = [];
    for await (const entry of await opendir(folder))
      if (!entry.name.startsWith('.'))
        entries.push({ name: entry.name, isFile: entry.isFile(), isFolder: entry.isDirectory() });
  } catch {
    return null;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((entry) => entry.isFile)) return depth;
  for (const entry of entries) {
    if (!entry.isFolder) continue;
    const found = await firstFileDepth(join(folder, entry.name), depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** The template at registry_dir/name/template_file, registry_dir/template_file or template_file. */
async function findTemplate(
  seedDir: string,
  prompt: Record<string, unknown>,
): Promise<{ path: string; text: string } | null> {
  const file = prompt.template_file;
  if (typeof file !== 'string' || file.trim() === '') return null;
  const registry = typeof prompt.registry_dir === 'string' ? resolve(seedDir, prompt.registry_dir) : seedDir;
  const name = typeof prompt.name === 'string' ? prompt.name : '';
  const candidates = [join(registry, name, file), join(registry, file), resolve(seedDir, file)];
  for (const candidate of candidates) {
    const text = await readFile(candidate, 'utf8').catch(() => null);
    if (text !== null) return { path: relative(process.cwd(), candidate) || candidate, text };
  }
  return null;
}
