import { WavebatchError } from '../errors.js';
import { reportError } from './report-error.js';

/**
 * The command's work is unfinished, yet nothing is left that could finish it: the event loop is
 * empty. Only the workload's own code can leave it so (a source function or a hook awaiting a
 * promise that nothing settles); Node then exited 13 with a warning pointing into bin/wavebatch.js.
 */
export class CommandStalledError extends WavebatchError {
  readonly code = 'CONFIG_CODE_STALLED';

  constructor() {
    super(
      "the command stopped with its work unfinished: the workload's own code (the source function, or a " +
        'hook such as extractContext) awaits a promise that nothing is left to settle. Make every promise ' +
        'it awaits resolve or reject (a forgotten resolve, a callback never called)',
    );
  }
}

/**
 * Reports CommandStalledError (exit 2) if the event loop empties before `finished` says the command
 * ended; returns the function that says so.
 */
export function reportStallBeforeExit(): () => void {
  let finished = false;
  const onEmptyLoop = () => {
    if (finished) return;
    process.exit(reportError(new CommandStalledError()));
  };
  process.on('beforeExit', onEmptyLoop);
  return () => {
    finished = true;
    process.off('beforeExit', onEmptyLoop);
  };
}
