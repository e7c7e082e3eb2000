import { createInterface, type Interface } from 'node:readline';

/** Asks a person questions, one line per answer. */
export interface Questions {
  /** Asks `question`; an empty answer (or a closed input) takes `fallback`. */
  ask(question: string, fallback: string): Promise<string>;
  /** Whether the input had ended when the last question was asked (so its fallback was taken). */
  readonly inputEnded: boolean;
  close(): void;
}

/**
 * Questions on a terminal or through a pipe. Lines are queued as they arrive: piped answers often
 * come before the question is asked, and readline would drop a line no question was waiting for.
 */
export function questionsOn(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Questions {
  const lines: string[] = [];
  const waiting: Array<(line: string | null) => void> = [];
  let closed = false;
  const reader: Interface = createInterface({ input, terminal: false });
  reader.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  reader.on('close', () => {
    closed = true;
    for (const next of waiting.splice(0)) next(null);
  });
  const nextLine = (): Promise<string | null> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (closed) return Promise.resolve(null);
    return new Promise((resolve) => waiting.push(resolve));
  };
  let ended = false;
  return {
    get inputEnded() {
      return ended;
    },
    async ask(question, fallback) {
      output.write(`${question}${fallback ? ` [${fallback}]` : ''}: `);
      const line = await nextLine();
      ended = line === null;
      // A piped answer is not echoed by a terminal: end the question's line ourselves.
      if (line === null || !(input as { isTTY?: boolean }).isTTY) output.write('\n');
      const answer = line?.trim() ?? '';
      return answer === '' ? fallback : answer;
    },
    close: () => reader.close(),
  };
}
