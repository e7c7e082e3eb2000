import { createReadStream } from 'node:fs';

/**
 * The 1-based line where the quoted field that is never closed begins, found by reading the file
 * again with CSV's quoting rules (a quote opens a field only at its start; `""` inside is a quote);
 * undefined when every quote closes. csv-parse reports an unclosed quote at the line it reached,
 * the end of the file, which is past the line to fix by as many lines as the quote swallowed.
 */
export async function unclosedQuoteLine(path: string): Promise<number | undefined> {
  let line = 1;
  let fieldStart = true;
  let quoted = false;
  // A quote seen inside a quoted field: the next character says whether it closes the field.
  let quoteInQuoted = false;
  let openedAt = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>) {
    for (const char of chunk) {
      if (quoted) {
        if (quoteInQuoted) {
          quoteInQuoted = false;
          if (char === '"') continue;
          quoted = false;
        } else {
          if (char === '"') quoteInQuoted = true;
          else if (char === '\n') line++;
          continue;
        }
      }
      if (char === '"' && fieldStart) {
        quoted = true;
        openedAt = line;
      } else if (char === '\n') {
        line++;
        fieldStart = true;
        continue;
      }
      // A BOM or the \r of \r\n is no field content.
      if (char === '\uFEFF' || char === '\r') continue;
      fieldStart = char === ',';
    }
  }
  return quoted && !quoteInQuoted ? openedAt : undefined;
}
