import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/report-error.js';
import { printable } from '../../src/printable.js';
import { WavebatchError } from '../../src/errors.js';

class SourceLineError extends WavebatchError {
  readonly code = 'SOURCE_INVALID_JSON';
}

describe('reportError', () => {
  afterEach(() => vi.unstubAllEnvs());

  /** What reportError writes to stderr, and the exit code it picks. */
  function reported(error: unknown): { text: string; exit: number } {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const exit = reportError(error);
      return { text: written.join(''), exit };
    } finally {
      spy.mockRestore();
    }
  }

  it('prints quoted text as text: a control sequence in a message cannot act on the terminal', () => {
    const message = 'line 3 of pages.jsonl: "\u001b]0;pwned\u0007\u001b[2J\rpage\u009b1m" is not valid';
    const { text, exit } = reported(new SourceLineError(message));
    expect(text).toBe(
      'error [SOURCE_INVALID_JSON]: line 3 of pages.jsonl: "\\u001b]0;pwned\\u0007\\u001b[2J\\u000dpage\\u009b1m" is not valid\n',
    );
    expect(exit).toBe(2);
  });

  // It printed a library's bare message: fetch's "fetch failed" without why (in its cause).
  it("names an error's code once and the cause its message does not quote", () => {
    const unreachable = new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo ENOTFOUND api.example'), { code: 'ENOTFOUND' }),
    });
    expect(reported(unreachable).text).toBe('error: fetch failed: getaddrinfo ENOTFOUND api.example\n');
    const invalid = Object.assign(new TypeError('The "path" argument must be a string'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    expect(reported(invalid).text).toBe(
      'error [ERR_INVALID_ARG_TYPE]: The "path" argument must be a string\n',
    );
  });

  it('keeps tabs, new lines and every printable character, in the stack too', () => {
    expect(printable('a\tb\nc é 中 😀 ~')).toBe('a\tb\nc é 中 😀 ~');
    vi.stubEnv('WAVEBATCH_DEBUG', '1');
    const error = new Error('bad\u001b[31m');
    error.stack = 'Error: bad\u001b[31m\n    at here';
    const { text, exit } = reported(error);
    expect(text).toBe('error: bad\\u001b[31m\nError: bad\\u001b[31m\n    at here\n');
    expect(exit).toBe(1);
  });
});
