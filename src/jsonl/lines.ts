import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One non-blank line of a text file, with its 1-based line number. */
export interface NumberedLine {
  text: string;
  lineNumber: number;
}

/**
 * Streams the non-blank lines of a JSON Lines file (never whole in memory), without a leading BOM.
 * A consumer that stops early, or throws, leaves no file open.
 */
export async function* nonBlankLines(path: string): AsyncGenerator<NumberedLine> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      const text = lineNumber === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line;
      if (text.trim() === '') continue;
      yield { text, lineNumber };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
