import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** What exists of a path: the path itself or its nearest existing ancestor, and the levels missing below it. */
export interface NearestExisting {
  /** The absolute path found: the path asked about, or the nearest ancestor that exists. */
  path: string;
  /** What `path` is: a folder, or a file in the way of the levels below it. */
  stats: Stats;
  /** The levels below `path`, down to the one asked about, that do not exist: top-most first. */
  missing: string[];
}

/**
 * The nearest thing that exists at or above `path`, whatever it is. A level below a file is missing
 * too (its stat fails ENOTDIR, not ENOENT), so the walk goes on up to the file itself: callers name
 * the file in the way, where the stat's `ENOTDIR … stat 'out/letters/x'` never said which part of
 * the path it was. Any other stat error (EACCES, ELOOP) is thrown, as is a missing file-system root.
 */
export async function nearestExisting(path: string): Promise<NearestExisting> {
  const walk = walkUp(path);
  for (let step = walk.next(); ;) {
    if (step.done) return step.value;
    const level = step.value;
    step = walk.next(await stat(level).catch((error: unknown) => missingAt(level, error)));
  }
}

/** nearestExisting for code that must stay synchronous (opening the state store). */
export function nearestExistingSync(path: string): NearestExisting {
  const walk = walkUp(path);
  for (let step = walk.next(); ;) {
    if (step.done) return step.value;
    const level = step.value;
    let found: Stats | undefined;
    try {
      found = statSync(level);
    } catch (error) {
      found = missingAt(level, error);
    }
    step = walk.next(found);
  }
}

/**
 * The one walk both versions drive: it yields each level to stat, from `path` up, and is given back
 * its stats (undefined when missing), so the sync and async callers cannot drift apart.
 */
function* walkUp(path: string): Generator<string, NearestExisting, Stats | undefined> {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    const stats = yield current;
    if (stats) return { path: current, stats, missing };
    missing.unshift(current);
  }
}

/** Undefined when a stat's error means nothing is at `level` (and it is not the root); else throws it. */
function missingAt(level: string, error: unknown): undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(level) !== level) return undefined;
  throw error;
}
