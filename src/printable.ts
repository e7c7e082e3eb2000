/**
 * Control characters but tab and newline (C0, DEL, C1). Text shown to a person can come from
 * outside: a source line quoted in an error, a record id typed on the command line, a server's
 * message, a model's raw answer (and a document can ask a model to answer with anything). Raw on a
 * terminal, an escape sequence in it could clear the screen, move the cursor over earlier lines or
 * retitle the window; written as `\uXXXX` it is only text.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with every control character but tab and newline written as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(TERMINAL_CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
