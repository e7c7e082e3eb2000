import type { WriteStream } from 'node:fs';
import { mkdir, open, realpath, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isInside } from '../path-inside.js';
import { makeFolder, NotAFolderError } from '../make-folder.js';
import type { LoadedConfig } from '../config/index.js';
import { ExportTargetError } from './errors.js';
import { describeError } from '../errors.js';

/** A file or folder of the workload that an export must never write over. */
interface OwnPlace {
  path: string;
  kind: 'file' | 'folder';
  what: string;
}

/**
 * The workload's own files and folders: its config, its source, its prompts, its response schema,
 * its state store and its outputs. `export -o`, `failures --export -o` and `report -o` replaced whatever they were
 * given: `-o .wavebatch/state.db` left a store no command could open, `-o data.jsonl` became the
 * next sync's source, and `-o out/part-000001.jsonl` truncated a committed shard of paid outputs.
 */
function ownPlaces(config: LoadedConfig): OwnPlace[] {
  const places: OwnPlace[] = [
    { path: config.configPath, kind: 'file', what: 'the workload config' },
    { path: config.outputs, kind: 'folder', what: 'the output folder' },
    { path: config.data_dir, kind: 'folder', what: 'the state folder (data_dir)' },
    { path: config.prompt.dir, kind: 'folder', what: 'the prompt folder' },
  ];
  if (config.model.response_schema_file)
    places.push({ path: config.model.response_schema_file, kind: 'file', what: 'the response schema' });
  const source = config.source;
  if (source.type === 'directory') {
    places.push({ path: source.path, kind: 'folder', what: 'the source folder' });
    if (source.allow_list)
      places.push({ path: source.allow_list, kind: 'file', what: "the source's allow-list" });
  } else if (source.type !== 'function') {
    places.push({ path: source.path, kind: 'file', what: 'the source file' });
  }
  if (config.assemble)
    places.push({ path: config.assemble.path, kind: 'folder', what: 'the assembly folder' });
  return places;
}

/** Where a path really is: links followed, also for a file not created yet (through its folder). */
async function realLocation(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    try {
      return join(await realpath(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

const OPEN_PROBLEMS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'it is a file',
};

/** The reason a path could not be opened or created, in words. */
function problemOf(error: unknown): string {
  // Which part of the path is the file, where ENOTDIR's "a part of the path" did not say.
  if (NotAFolderError.isInstance(error)) return `${error.path} is a file, not a folder`;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return OPEN_PROBLEMS[code] ?? describeError(error);
}

/**
 * Creates `folder` (and its missing parents) for an export of files into it, and checks a folder
 * can be made inside it, as the export will for ids with slashes; ExportTargetError naming the path
 * and the reason otherwise (makeFolder: `-o /proc/x` spun at 100% CPU in Node's recursive mkdir).
 */
export async function prepareExportFolder(folder: string): Promise<void> {
  const probe = join(resolve(folder), `.wavebatch-export-${process.pid}`);
  try {
    await makeFolder(folder);
    await mkdir(probe);
    await rmdir(probe);
  } catch (error) {
    throw new ExportTargetError(`Cannot write to ${folder}: ${problemOf(error)}.`);
  }
}

/**
 * Refuses a folder for `export -f files` / `-f assembled` (ExportTargetError, exit 2) that lies in
 * one of the workload's own folders, or holds its output folder (an id `out/a` would land on
 * `out/a.json`), compared where they really are: a link to the output folder passed the check by
 * name, and `export -f files -o link` wrote every bare output over its paid output file. `mayBe`
 * names the one own folder the export may write into (the assembly folder, for `-f assembled`).
 */
export async function refuseOwnFolder(
  config: LoadedConfig,
  folder: string,
  mayBe?: 'the assembly folder',
): Promise<void> {
  const target = await realLocation(folder);
  for (const place of ownPlaces(config)) {
    if (place.kind !== 'folder' || place.what === mayBe) continue;
    const own = await realLocation(place.path);
    if (isInside(target, own))
      throw new ExportTargetError(
        `${folder} is ${target === own ? place.what : `inside ${place.what}`} (${place.path}); export to another folder.`,
      );
    if (place.what === 'the output folder' && isInside(own, target))
      throw new ExportTargetError(
        `${folder} holds the output folder (${place.path}); export to another folder.`,
      );
  }
}

/**
 * Opens `path` for an export of this workload (created, or emptied), after refusing any of the
 * workload's own files and folders (ExportTargetError, exit 2, nothing written); a path that cannot
 * be opened is refused the same way, named with the reason.
 */
export async function openExportFile(config: LoadedConfig, path: string): Promise<WriteStream> {
  const target = await realLocation(path);
  for (const place of ownPlaces(config)) {
    const own = await realLocation(place.path);
    if (place.kind === 'folder' ? isInside(target, own) : own === target)
      throw new ExportTargetError(
        `${path} is ${place.kind === 'folder' ? `inside ${place.what}` : place.what} (${place.path}); ` +
          'write the export to another file.',
      );
  }
  try {
    const stream = (await open(path, 'w')).createWriteStream();
    // A write that fails later (a full disk) is reported by `finished(stream)`, which every caller
    // awaits; without a listener the stream's 'error' event would end the process with a stack trace.
    stream.on('error', () => undefined);
    return stream;
  } catch (error) {
    throw new ExportTargetError(`Cannot write ${path}: ${problemOf(error)}.`);
  }
}
