import { categoryOfCode, describeErrorMessage, errorCodeOf, WavebatchError } from '../errors.js';
import { printable } from '../printable.js';
import { redact } from '../secrets/redact.js';
import { ExitCode } from './exit-codes.js';

/** Prints an error for a person (code and message, no stack unless WAVEBATCH_DEBUG) and picks the exit code. */
export function reportError(error: unknown): number {
  const code = errorCodeOf(error);
  const message = printable(describeErrorMessage(error));
  process.stderr.write(`error${code ? ` [${printable(code)}]` : ''}: ${message}\n`);
  if (process.env.WAVEBATCH_DEBUG && error instanceof Error && error.stack) {
    process.stderr.write(`${printable(redact(error.stack))}\n`);
    // What a source function threw, where in the user's code.
    if (error.cause instanceof Error && error.cause.stack)
      process.stderr.write(`caused by: ${printable(redact(error.cause.stack))}\n`);
  }
  const category = WavebatchError.isInstance(error)
    ? error.category
    : code
      ? categoryOfCode(code)
      : 'failure';
  return category === 'input' ? ExitCode.BadInput : ExitCode.Failed;
}
