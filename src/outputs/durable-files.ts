import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** fsyncs a folder so a rename or a new entry in it survives a power loss; some platforms cannot, which is fine. */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces a small file atomically: a hidden temp file written and fsynced, renamed over the target,
 * the folder fsynced. A crash leaves the old file or the new one, never half of either.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeAtomically(path, temp, text, () => open(temp, 'w'));
}

/**
 * Writes `text` to `temp` (opened by `openTemp`), fsyncs it, renames it over `path` and fsyncs the
 * folder. A write that fails (a full disk) removes its temp file instead of leaving it beside the
 * target; a crash can leave one, which is harmless (hidden, and replaced or ignored next time).
 */
export async function writeAtomically(
  path: string,
  temp: string,
  text: string,
  openTemp: () => Promise<FileHandle>,
): Promise<void> {
  const handle = await openTemp();
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncFolder(dirname(path));
}
