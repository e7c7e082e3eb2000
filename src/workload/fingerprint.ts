import { createHash } from 'node:crypto';
import { readdirSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { DirectorySourceConfig, LoadedConfig, TableSourceConfig } from '../config/index.js';

/** Bumped whenever the way records are derived from a source changes: old fingerprints then miss. */
const FINGERPRINT_VERSION = 1;

/**
 * A file or folder changed this recently may change again within the same timestamp tick without its
 * mtime moving (coarse clocks, fast writers): such a source is not fingerprinted this time.
 */
const SETTLE_MS = 2_000;

/**
 * A digest that changes whenever the records the source yields can change, computed without reading
 * the records: the source config, and for a table the data file's size, mtime and inode; for a
 * directory each folder's mtime and inode (a folder's mtime moves when an entry is added, removed or
 * renamed in it, and a directory source's records depend only on names). Null when the source cannot
 * be fingerprinted (a function source) or changed within the last seconds: then it is synced in full.
 */
export function sourceFingerprint(config: LoadedConfig, now: number): string | null {
  if (config.hooks?.source) return null;
  const source = config.source;
  const hash = createHash('sha256').update(`${FINGERPRINT_VERSION}\n${JSON.stringify(source)}\n`);
  let newest: bigint;
  switch (source.type) {
    case 'function':
      return null;
    case 'directory':
      newest = directoryStamps(source, hash);
      break;
    case 'jsonl':
    case 'json':
    case 'csv':
      newest = tableStamps(source, hash);
      break;
    default:
      return source satisfies never;
  }
  if (newest < 0n || Number(newest / 1_000_000n) > now - SETTLE_MS) return null;
  return hash.digest('hex');
}

/** Adds the data file's stamp; returns its mtime (ns), or -1 when it is missing (the sync reports it). */
function tableStamps(source: TableSourceConfig, hash: ReturnType<typeof createHash>): bigint {
  const stats = statOrNull(source.path);
  if (!stats) return -1n;
  hash.update(`${stats.size}:${stats.mtimeNs}:${stats.ino}\n`);
  return stats.mtimeNs;
}

/** Adds every folder's stamp down to the leaf level (and the allow list's); returns the newest mtime. */
function directoryStamps(source: DirectorySourceConfig, hash: ReturnType<typeof createHash>): bigint {
  let newest = 0n;
  const stamp = (path: string, relative: string): boolean => {
    const stats = statOrNull(path);
    if (!stats) return false;
    hash.update(`${relative}\0${stats.mtimeNs}:${stats.ino}:${stats.isDirectory() ? 'd' : stats.size}\n`);
    if (stats.mtimeNs > newest) newest = stats.mtimeNs;
    return true;
  };
  if (source.allow_list && !stamp(source.allow_list, '\0allow_list')) return -1n;
  const depth = source.levels?.length;
  const walk = (folder: string, relative: string, level: number): boolean => {
    if (!stamp(folder, relative)) return false;
    // A leaf's pages are covered by its own mtime: no need to list it.
    if (depth !== undefined && level === depth) return true;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && statOrNull(path)?.isDirectory());
      if (isFolder && !walk(path, `${relative}/${entry.name}`, level + 1)) return false;
    }
    return true;
  };
  return walk(source.path, '.', 0) ? newest : -1n;
}

function statOrNull(path: string): BigIntStats | null {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return null;
  }
}
