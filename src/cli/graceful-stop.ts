import { ExitCode, type StopSignal } from './exit-codes.js';

/** A run's reaction to Ctrl-C and SIGTERM: finish the current step, save, exit 130 / 143. */
export interface GracefulStop {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal that stopped the run, or null while none came. */
  stoppedBy(): StopSignal | null;
  /** Removes the signal handlers (the default ones apply again). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM. The first one aborts `signal`, so the run ends after its current
 * step with its state saved; a second one exits at once, which is safe because every state change is
 * committed before the remote call it guards (a crash at any instant loses nothing).
 */
export function listenForStop(stream: NodeJS.WritableStream = process.stderr): GracefulStop {
  const abort = new AbortController();
  let received: StopSignal | null = null;
  const onSignal = (name: StopSignal) => {
    if (received) {
      stream.write(`${name} again: stopping now; \`wavebatch run\` resumes where this stopped\n`);
      process.exit(received === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
    }
    received = name;
    stream.write(
      `${name}: stopping after the current step and saving state (${name === 'SIGINT' ? 'Ctrl-C' : 'send it'} again to stop at once)\n`,
    );
    abort.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: abort.signal,
    stoppedBy: () => received,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
