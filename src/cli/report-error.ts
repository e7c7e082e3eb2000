/** Error codes that mean "your input is wrong" (exit 2) rather than "something failed" (exit 1). */
const INPUT_ERROR = /^(CONFIG_|SOURCE_|RECORD_ID|PROMPT_|CONFIRMATION_|API_KEY_|INPUT_|RUN_LOCKED)/;

/** Prints an error for a person (code and message, no stack unless WAVEBATCH_DEBUG) and picks the exit code. */
export function reportError(error: unknown): number {
  const code =
    typeof error === 'object' && error !== null && 'code' in error
      ? String((error as { code: unknown }).code)
      : null;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error${code ? ` [${code}]` : ''}: ${message}\n`);
  if (process.env.WAVEBATCH_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return code && INPUT_ERROR.test(code) ? 2 : 1;
}
