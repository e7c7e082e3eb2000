// Bytes this process wrote: to write() calls (wchar) and down to the disk (write_bytes less
// cancelled_write_bytes), from /proc. The kernel counts a page as written to disk when it is
// dirtied, and takes it back when the file is truncated or deleted before it was written out: a
// batch job's input file (written, uploaded, deleted) and its results file (downloaded, read,
// deleted) mostly never reach the disk, and write_bytes alone counted them (17% of a 50k run's).
import { readFileSync } from 'node:fs';

export interface ProcessIo {
  /** Bytes passed to write-like system calls. */
  written: number;
  /** Bytes the process caused to be sent to the storage layer and did not take back (null where /proc does not say). */
  toDisk: number | null;
}

/** The process's write counters now; zeros where /proc/self/io is missing (not Linux). */
export function processIo(): ProcessIo {
  let text = '';
  try {
    text = readFileSync('/proc/self/io', 'utf8');
  } catch {
    return { written: 0, toDisk: null };
  }
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const toDisk = field('write_bytes') - field('cancelled_write_bytes');
  return { written: field('wchar'), toDisk: Number.isFinite(toDisk) ? toDisk : null };
}

/** Counters between two readings. */
export function ioSince(before: ProcessIo): ProcessIo {
  const now = processIo();
  return {
    written: now.written - before.written,
    toDisk: now.toDisk === null || before.toDisk === null ? null : now.toDisk - before.toDisk,
  };
}
