import { ExitCode, type StopSignal } from './exit-codes.js';
import { counted } from '../quantities.js';

/** A run's reaction to Ctrl-C and SIGTERM: finish the current step, save, exit 130 / 143. */
export interface GracefulStop {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal that stopped the run, or null while none came. */
  stoppedBy(): StopSignal | null;
  /** Removes the signal handlers (the default ones apply again). */
  dispose(): void;
}

/** The synchronous requests in the air and how long a graceful stop waits for them (the runner's `stopWait`). */
export type StopWait = () => { requests: number; graceMs: number };

/**
 * Listens for SIGINT and SIGTERM. The first one aborts `signal`, so the run ends after its current
 * step with its state saved, the requests in the air (`inFlight`) waited for within their grace; a
 * second one exits at once, which is safe because every state change is committed before the remote
 * call it guards (a crash at any instant loses nothing, and costs at most the calls in the air).
 */
export function listenForStop(
  stream: NodeJS.WritableStream = process.stderr,
  inFlight: StopWait = () => ({ requests: 0, graceMs: 0 }),
): GracefulStop {
  const abort = new AbortController();
  let received: StopSignal | null = null;
  const onSignal = (name: StopSignal) => {
    if (received) {
      stream.write(`${name} again: stopping now; \`wavebatch run\` resumes where this stopped\n`);
      process.exit(received === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated);
    }
    received = name;
    stream.write(`${name}: ${stoppingLine(name, inFlight())}\n`);
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

/** What the first stop does, and what a second one would cost when requests are in the air. */
function stoppingLine(name: StopSignal, wait: { requests: number; graceMs: number }): string {
  const again = name === 'SIGINT' ? 'Ctrl-C' : 'send it';
  const head = 'stopping after the current step and saving state; nothing new is sent';
  if (wait.requests === 0) return `${head} (${again} again to stop at once)`;
  const them = wait.requests === 1 ? 'it' : 'them';
  return (
    `${head}; waiting up to ${Math.ceil(wait.graceMs / 1000)} s for ${counted(wait.requests, 'request')} in flight, ` +
    `whose answers Google bills and are applied (${again} again to stop at once: the next run sends ${them} again, ` +
    `and Google may bill ${wait.requests === 1 ? 'it' : 'each'} twice)`
  );
}
