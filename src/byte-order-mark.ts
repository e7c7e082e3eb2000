/**
 * A text file's content without a leading UTF-8 byte-order mark (U+FEFF). Windows editors
 * (Notepad, Excel's "UTF-8" export) start files with one; it is no part of the text, yet
 * `readFile(path, 'utf8')` keeps it: JSON.parse refuses it, and a template would send it in
 * every prompt.
 */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
