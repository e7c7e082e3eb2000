/** Where a JSON text stops being valid: 0-based offset and 1-based line and column. */
export interface JsonErrorPosition {
  offset: number;
  line: number;
  column: number;
  /** What was found there: `"}"`, or `end of file`. */
  found: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/**
 * Finds the first syntax error of a JSON text (undefined when it is valid). Node 20's JSON.parse
 * messages often omit the position, and a message without a line is no help in a 2,000-line file.
 */
export function jsonErrorPosition(text: string): JsonErrorPosition | undefined {
  let index = 0;
  const fail = (): never => {
    throw new JsonStop(index);
  };
  const space = () => {
    while (index < text.length && ' \t\n\r'.includes(text[index] as string)) index++;
  };
  const expect = (char: string) => (text[index] === char ? index++ : fail());
  const string = () => {
    expect('"');
    for (;;) {
      const char = text[index];
      if (char === undefined || char < ' ') fail();
      index++;
      if (char === '"') return;
      if (char === '\\') {
        const escape = text[index];
        if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(index + 1, index + 5))) index += 5;
        else if (escape !== undefined && ESCAPES.has(escape)) index++;
        else fail();
      }
    }
  };
  const sequence = (close: string, item: () => void) => {
    index++;
    space();
    if (text[index] === close) return void index++;
    for (;;) {
      space();
      item();
      space();
      if (text[index] === ',') index++;
      else return void expect(close);
    }
  };
  const value = (): void => {
    const char = text[index];
    if (char === '{') {
      sequence('}', () => {
        string();
        space();
        expect(':');
        space();
        value();
      });
    } else if (char === '[') {
      sequence(']', value);
    } else if (char === '"') {
      string();
    } else {
      const word = ['true', 'false', 'null'].find((literal) => text.startsWith(literal, index));
      if (word) return void (index += word.length);
      NUMBER.lastIndex = index;
      const number = NUMBER.exec(text);
      if (!number) fail();
      index += (number as RegExpExecArray)[0].length;
    }
  };
  try {
    space();
    value();
    space();
    if (index < text.length) fail();
    return undefined;
  } catch (error) {
    if (!(error instanceof JsonStop)) throw error;
    const before = text.slice(0, error.offset);
    const char = text[error.offset];
    const found = char === undefined ? 'end of file' : JSON.stringify(char);
    return {
      offset: error.offset,
      line: before.split('\n').length,
      column: error.offset - before.lastIndexOf('\n'),
      found,
    };
  }
}

class JsonStop {
  constructor(readonly offset: number) {}
}
