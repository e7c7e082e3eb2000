import { styleText } from 'node:util';

/** Text styles for one output stream: colour only when it is a terminal and NO_COLOR is not set. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  good(text: string): string;
  warn(text: string): string;
  bad(text: string): string;
}

/**
 * Styles for `stream`. node's styleText checks the stream itself (a TTY, NO_COLOR, FORCE_COLOR,
 * NODE_DISABLE_COLORS, TERM=dumb), so pipes, files and CI logs get plain text.
 */
export function styleFor(stream: NodeJS.WritableStream = process.stdout): Style {
  const paint =
    (format: Parameters<typeof styleText>[0]) =>
    (text: string): string =>
      styleText(format, text, { stream: stream as NodeJS.WriteStream });
  return {
    bold: paint('bold'),
    dim: paint('dim'),
    good: paint('green'),
    warn: paint('yellow'),
    bad: paint('red'),
  };
}

/** No styling at all (tests, files). */
export const PLAIN: Style = {
  bold: (text) => text,
  dim: (text) => text,
  good: (text) => text,
  warn: (text) => text,
  bad: (text) => text,
};
