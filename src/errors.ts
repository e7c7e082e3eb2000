import { capText } from './results/capped-text.js';
import { redact } from './secrets/redact.js';

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
 * The most of a message from outside wavebatch (a server's, a library's, a hook's) an error or a
 * description quotes. Google's messages are a sentence or a few hundred bytes; a proxy or another
 * server at the base URL can answer with a whole HTML page (megabytes), which was printed whole and
 * stored in the failure log at every attempt. A batch job's own error (`batch-job.ts`) is held to
 * it too: it is filed as the failure of each of the job's records.
 */
export const MAX_SERVER_MESSAGE_BYTES = 4096;

/**
 * The most of a wavebatch error's own message describeError keeps: what it quotes was cut to
 * MAX_SERVER_MESSAGE_BYTES where it was quoted, and its words and advice around that are short.
 * Cut again to 4 kB, the cut fell in the quote, the advice was lost and the size the first cut
 * reported too.
 */
const MAX_OWN_MESSAGE_BYTES = 2 * MAX_SERVER_MESSAGE_BYTES;

/** How many causes deep a description goes: a chain of causes that loops back must still end. */
const MAX_CAUSE_DEPTH = 4;

/** The code a thrown value carries: a wavebatch error's, or a Node or library error's (`ENOENT`). */
export function errorCodeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * What a person reads of a thrown value, for a message that quotes it: `[CODE] message: cause`. The
 * code leads unless the message names it already (Node's `ENOENT: …`); the cause of an error not
 * wavebatch's own follows when the message does not quote it (fetch's "fetch failed" says why only
 * in its cause), described the same way; the key and every other secret are redacted (src/secrets); a message from outside is
 * cut to MAX_SERVER_MESSAGE_BYTES, a wavebatch error's own to twice that. Anything else thrown is
 * given as text (an object as its JSON).
 */
export function describeError(error: unknown): string {
  return describe(error, true, 0);
}

/**
 * describeError without the leading code, for where the code is shown apart from the message (the
 * CLI's `error [CODE]: message`).
 */
export function describeErrorMessage(error: unknown): string {
  return describe(error, false, 0);
}

function describe(error: unknown, withCode: boolean, depth: number): string {
  if (!(error instanceof Error)) return capText(redact(textOf(error)), MAX_SERVER_MESSAGE_BYTES);
  const own = error.message || error.name;
  let text = quoted(error);
  const code = withCode ? errorCodeOf(error) : undefined;
  if (code !== undefined && !own.includes(code)) text = `[${code}] ${text}`;
  const cause = error.cause;
  // A wavebatch error's message is written to say what its cause adds (its cause is kept for the
  // stack WAVEBATCH_DEBUG prints): given again, a missing seed config said ENOENT twice.
  if (
    cause instanceof Error &&
    !WavebatchError.isInstance(error) &&
    depth < MAX_CAUSE_DEPTH &&
    !quotes(own, cause)
  )
    text = `${text}: ${describe(cause, true, depth + 1)}`;
  return text;
}

/** How much of its cause's first line a message must hold to be taken as quoting it. */
const QUOTED_HEAD_CHARS = 64;

/**
 * Whether an error's message quotes its cause already (UnwritablePathError, a record's request
 * error): whole, or its first line's beginning, as thrown or redacted. A wrapper often quotes the
 * first line alone, cut (a source function's error): given again whole, the cut was undone.
 */
function quotes(message: string, cause: Error): boolean {
  const head = (cause.message.split('\n')[0] ?? '').slice(0, QUOTED_HEAD_CHARS);
  return message.includes(head) || message.includes(redact(head));
}

/** An error's own message, redacted and cut. */
function quoted(error: Error): string {
  const max = WavebatchError.isInstance(error) ? MAX_OWN_MESSAGE_BYTES : MAX_SERVER_MESSAGE_BYTES;
  return capText(redact(error.message || error.name), max);
}

/** A thrown value that is no Error as text: a string as it is, an object as its message or its JSON. */
function textOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return json;
    } catch {
      // A cycle or a BigInt: its String() is all there is to say.
    }
  }
  return String(value);
}
