import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WavebatchError } from '../errors.js';

/** Raised when another wavebatch process is already working on the same data dir. */
export class RunLockedError extends WavebatchError {
  readonly code = 'RUN_LOCKED';
  constructor(
    readonly lockPath: string,
    readonly holderPid: number,
  ) {
    super(
      `Another wavebatch process (pid ${holderPid}) is running this workload (lock ${lockPath}). ` +
        'Wait for it to finish; if that process is gone, the lock is taken over automatically.',
    );
    this.name = 'RunLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data dir's exclusive lock, so two runs (say, overlapping cron jobs) never plan the same
 * records. A lock left by a killed process is taken over. Returns the release function.
 */
export async function acquireRunLock(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, 'run.lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.sync();
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new RunLockedError(path, holder);
      await rm(path, { force: true });
    }
  }
  throw new RunLockedError(path, -1);
}
