/**
 * A reader that stops early closes its end of the pipe (`wavebatch run | head -1`, `2>&1 | head`, a
 * `| tee` killed by the same Ctrl-C): every later write fails with EPIPE. That is not the command's
 * failure and must not decide its exit code: the rest of the output is dropped and the command goes
 * on to its end (a run records itself and lets go of its store) and exits with its own code.
 */

const readerGone = new AbortController();

/** Aborts once standard output's reader has gone away: a command that would print for ever (`status --watch`) stops. */
export const stdoutReaderGone: AbortSignal = readerGone.signal;

/** From the first EPIPE on, `stream` drops what it is given instead of failing at each write. */
export function dropOutputWhenReaderGoes(stream: NodeJS.WriteStream, onGone: () => void = () => {}): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = dropWrite as NodeJS.WriteStream['write'];
    onGone();
    // A writer waiting for 'drain' (a large export) must go on, not fail with the EPIPE nor wait for ever.
    stream.emit('drain');
  });
}

/** Standard output and standard error both drop their output once their reader goes away. */
export function outliveEarlyReaders(): void {
  dropOutputWhenReaderGoes(process.stdout, () => readerGone.abort());
  dropOutputWhenReaderGoes(process.stderr);
}

function dropWrite(...args: unknown[]): boolean {
  const callback = args.find((arg) => typeof arg === 'function') as ((error?: Error) => void) | undefined;
  if (callback) process.nextTick(callback);
  return true;
}
