import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectClosed } from '../fixtures/open-descriptors.js';
import { MAX_RAW_LINE_BYTES, readResultLines, type ResultLine } from '../../src/results/index.js';

function okLine(key: string): string {
  return JSON.stringify({
    key,
    response: {
      candidates: [
        {
          content: { role: 'model', parts: [{ text: `{"carry_over":"${key}"}` }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, totalTokenCount: 120 },
      modelVersion: 'gemini-2.5-flash',
    },
  });
}

async function collect(path: string): Promise<ResultLine[]> {
  const lines: ResultLine[] = [];
  for await (const line of readResultLines(path)) lines.push(line);
  return lines;
}

describe('readResultLines', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-results-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads keys with responses and errors, skips blank lines, and counts lines as in the file', async () => {
    const path = join(dir, 'results.jsonl');
    const error = { code: 500, message: 'Internal error', status: 'INTERNAL' };
    writeFileSync(
      path,
      `\uFEFF${okLine('a/p1')}\r\n\n   \n${JSON.stringify({ key: 'a/p2', error })}\n${okLine('b/p1')}`,
    );
    const lines = await collect(path);
    expect(lines.map((line) => [line.lineNumber, line.key, line.malformed])).toEqual([
      [1, 'a/p1', false],
      [4, 'a/p2', false],
      [5, 'b/p1', false],
    ]);
    expect(lines[0]?.response).toMatchObject({ modelVersion: 'gemini-2.5-flash' });
    expect(lines[1]?.error).toEqual(error);
    expect(lines[1]?.response).toBeUndefined();
  });

  it('marks unparsable lines malformed, keeping the raw text (capped) and the key when it can be recovered', async () => {
    const path = join(dir, 'results.jsonl');
    const huge = `{"key": "big", "response": {"candidates": [{"content": {"parts": [{"text": "${'x'.repeat(200_000)}`;
    writeFileSync(
      path,
      [
        '{"key": "a/p1", "response": {"candidates": [{"content"',
        'not json at all',
        '[1, 2, 3]',
        '{"key": "a/p3"}',
        '{"key": "a \\"quoted\\" id", "response": ',
        huge,
        okLine('ok'),
      ].join('\n'),
    );
    const lines = await collect(path);
    expect(lines.map((line) => [line.lineNumber, line.key, line.malformed])).toEqual([
      [1, 'a/p1', true],
      [2, undefined, true],
      [3, undefined, true],
      [4, 'a/p3', true],
      [5, 'a "quoted" id', true],
      [6, 'big', true],
      [7, 'ok', false],
    ]);
    expect(lines[1]?.raw).toBe('not json at all');
    const capped = lines[5]?.raw ?? '';
    expect(capped.length).toBeLessThan(MAX_RAW_LINE_BYTES + 200);
    expect(capped).toMatch(/\[truncated: \d+ bytes in all/);
  });

  it('streams a 50,000-line file, malformed lines included', async () => {
    const path = join(dir, 'big.jsonl');
    const out = createWriteStream(path);
    for (let index = 0; index < 50_000; index++) {
      const line = index % 5_000 === 4_999 ? `{"key": "k${index}", "respo` : okLine(`k${index}`);
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
    let count = 0;
    let malformed = 0;
    let lastNumber = 0;
    for await (const line of readResultLines(path)) {
      count++;
      if (line.malformed) malformed++;
      expect(line.lineNumber).toBe(lastNumber + 1);
      lastNumber = line.lineNumber;
    }
    expect(count).toBe(50_000);
    expect(malformed).toBe(10);
  });

  it('caps raw text on a character boundary and releases the file when the reader stops early', async () => {
    const path = join(dir, 'results.jsonl');
    writeFileSync(
      path,
      `{"key": "k", "response": "${'é'.repeat(40_000)}😀${'😀'.repeat(20_000)}\n${okLine('next')}\n`,
    );
    for await (const line of readResultLines(path)) {
      expect(line.malformed).toBe(true);
      expect(line.raw).not.toContain('\uFFFD');
      expect(Buffer.byteLength(line.raw.split('… [truncated')[0] ?? '')).toBeLessThanOrEqual(
        MAX_RAW_LINE_BYTES,
      );
      break;
    }
    // Stopping early closed the file.
    await expectClosed(path);
  });

  it('yields lines while the file is still being written (it never waits for the whole file)', async () => {
    const fifo = join(dir, 'results.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = createWriteStream(fifo);
    const iterator = readResultLines(fifo)[Symbol.asyncIterator]();
    writer.write(`${okLine('first')}\n`);
    const first = await iterator.next();
    // The writer has not finished: a reader that loaded the whole file would still be waiting.
    expect(first.value).toMatchObject({ key: 'first', malformed: false });
    expect(writer.writableEnded).toBe(false);
    writer.end(`${okLine('second')}\n`);
    expect((await iterator.next()).value).toMatchObject({ key: 'second' });
    expect((await iterator.next()).done).toBe(true);
  });
});
