import { dirname } from 'node:path';
import type { LoadedConfig } from '../config/index.js';

/**
 * The folder a workload's media files must stay in, after links, each time one is read: a table
 * source's `media_root` (default the data file's folder), a directory source's folder unless
 * `follow_symlinks: true`. A function source's media are the config's own (trusted code): none.
 */
export function mediaRootOf(config: LoadedConfig): string | undefined {
  if (config.hooks?.source) return undefined;
  const source = config.source;
  switch (source.type) {
    case 'function':
      return undefined;
    case 'directory':
      return source.follow_symlinks ? undefined : source.path;
    case 'jsonl':
    case 'json':
    case 'csv':
      return source.media_root ?? dirname(source.path);
    default:
      return source satisfies never;
  }
}
