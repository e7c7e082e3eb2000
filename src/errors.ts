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

  /** Whether the input is at fault (exit 2) or something failed (exit 1). */
  get category(): ErrorCategory {
    return categoryOfCode(this.code);
  }

  /** True for any wavebatch error, also one thrown by another copy of this module. */
  static isInstance(value: unknown): value is WavebatchError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** The category of an error code, for errors that carry a code but are not WavebatchErrors. */
export function categoryOfCode(code: string): ErrorCategory {
  return INPUT_CODE.test(code) ? 'input' : 'failure';
}
