import { isAbsolute, relative } from 'node:path';

/** True when `path` is `folder` or lies below it (both absolute, or both relative to one folder). */
export function isInside(path: string, folder: string): boolean {
  const rest = relative(folder, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
}
