/**
 * The one base class of wavebatch's errors. Every error a user can meet has a stable `code` (scripts
 * and docs refer to it; it never changes meaning) and a message that says what to do next.
 */

/** `input`: the user's config, files or arguments are wrong (exit code 2). `failure`: something failed (exit 1). */
export type ErrorCategory = 'input' | 'failure';

/** Codes that mean "your input is wrong": fix the input, retrying unchanged cannot help. */
const INPUT_CODE =
  /^(CONFIG_|SOURCE_|RECORD_ID|PROMPT_|CONFIRMATION_|API_KEY_|INPUT_|RUN_LOCKED|NODE_VERSION)/;

const MARKER = Symbol.for('wavebatch.error');

export abstract class WavebatchError extends Error {
  /** Stable, upper-case code, e.g. `CONFIG_INVALID`, `SOURCE_NOT_FOUND`. */
  abstract readonly code: string;
  /** Marks instances across duplicated module copies (a bundled and a linked wavebatch). */
  readonly [MARKER] = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // Stack traces and logs name the class (`ConfigError: …`, not `Error: …`) without each class saying so.
    this.name = new.target.name;
  }

  /** Whether the input is at fault (exit 2) or something failed (exit 1). */
  get category(): ErrorCategory {
    return categoryOfCode(this.code);
  }

  /**
   * True for an error of this class or a subclass of it (`WavebatchError.isInstance`: any wavebatch
   * error), also one thrown by another copy of this module (a bundled and a linked wavebatch). Its
   * classes are not this copy's, so there it is known by the marker and its classes' names.
   */
  static isInstance<T extends WavebatchError>(
    this: abstract new (...args: never[]) => T,
    value: unknown,
  ): value is T {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[MARKER] !== true) return false;
    return value instanceof this || classNamesOf(value).includes(this.name);
  }
}

/** The names of the classes an object is an instance of, its own class first. */
function classNamesOf(value: object): string[] {
  const names: string[] = [];
  for (let proto: unknown = Object.getPrototypeOf(value); proto; proto = Object.getPrototypeOf(proto))
    if (Object.hasOwn(proto as object, 'constructor'))
      names.push((proto as { constructor: { name: string } }).constructor.name);
  return names;
}

/** The category of an error code, for errors that carry a code but are not WavebatchErrors. */
export function categoryOfCode(code: string): ErrorCategory {
  return INPUT_CODE.test(code) ? 'input' : 'failure';
}

/**
 * What a warning says of a thrown value: its message, and its cause's after a colon. fetch's
 * "fetch failed" says why (refused, reset, no such host) only in its cause; an error that already
 * quotes its cause (UnwritablePathError, OutputCorruptError) is not made to say it twice.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : '';
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}
