import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectClosed } from '../fixtures/open-descriptors.js';
import { LineReadError } from '../../src/jsonl/errors.js';
import { DEFAULT_MAX_LINE_BYTES, nonBlankLines, type LineReadOptions } from '../../src/jsonl/lines.js';
import { invalidUtf8Offset, Utf8StreamCheck } from '../../src/jsonl/utf8.js';

async function readAll(path: string, options?: LineReadOptions) {
  const seen = [];
  for await (const line of nonBlankLines(path, options)) seen.push(line);
  return seen;
}

async function readError(path: string, options?: LineReadOptions): Promise<LineReadError> {
  const error = await readAll(path, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(LineReadError);
  return error as LineReadError;
}

describe('nonBlankLines', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-lines-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers the non-blank lines as the file does, without a leading BOM, CRLF or LF', async () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '\uFEFF{"a":1}\r\n\r\n   \n{"b":2}\n{"c":3}');
    const seen = [];
    for await (const line of nonBlankLines(path)) seen.push(line);
    expect(seen).toEqual([
      { text: '{"a":1}', lineNumber: 1 },
      { text: '{"b":2}', lineNumber: 4 },
      { text: '{"c":3}', lineNumber: 5 },
    ]);
  });

  it('closes the file when the consumer stops early or throws', async () => {
    const path = join(dir, 'big.jsonl');
    writeFileSync(path, '{"n":1}\n'.repeat(200_000));
    for await (const line of nonBlankLines(path)) {
      expect(line.lineNumber).toBe(1);
      break;
    }
    await expectClosed(path);
    await expect(
      (async () => {
        for await (const line of nonBlankLines(path))
          if (line.lineNumber === 2) throw new Error('bad line 2');
      })(),
    ).rejects.toThrow('bad line 2');
    await expectClosed(path);
  });

  it('refuses a line longer than the limit, naming the file and the line, and reads nothing after it', async () => {
    const path = join(dir, 'long.jsonl');
    writeFileSync(path, `{"a":1}\n{"b":"${'x'.repeat(300)}"}\n{"c":3}\n`);
    expect((await readAll(path, { maxLineBytes: 400 })).length).toBe(3);
    const error = await readError(path, { maxLineBytes: 100 });
    expect(error.code).toBe('INPUT_LINE_TOO_LONG');
    expect(error.line).toBe(2);
    expect(error.byteOffset).toBe(8);
    expect(error.message).toContain(`${path} line 2`);
    expect(error.message).toContain('longer than 100 bytes');
  });

  it('refuses a 600 MB line without a newline at the default limit, holding no more than the limit', async () => {
    // A sparse file: 600 MB long, next to nothing on disk, and never in the test's memory.
    const path = join(dir, 'huge.jsonl');
    writeFileSync(path, '{"id":"a","text":"');
    truncateSync(path, 600_000_000);
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const error = await readError(path);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    expect(error.code).toBe('INPUT_LINE_TOO_LONG');
    expect(error.line).toBe(1);
    expect(error.message).toContain(`longer than ${DEFAULT_MAX_LINE_BYTES} bytes`);
    // The limit's worth of buffers at most (64 MB), never the 600 MB line or a string of it.
    expect(peakGrowth).toBeLessThan(3 * DEFAULT_MAX_LINE_BYTES);
  });

  it('reports invalid UTF-8 with its line and byte offset instead of replacing it', async () => {
    const path = join(dir, 'latin1.jsonl');
    writeFileSync(
      path,
      Buffer.concat([Buffer.from('{"a":"ok é"}\n{"b":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]),
    );
    const error = await readError(path);
    expect(error.code).toBe('INPUT_INVALID_UTF8');
    expect(error.line).toBe(2);
    expect(error.byteOffset).toBe(Buffer.byteLength('{"a":"ok é"}\n{"b":"caf'));
    expect(error.message).toContain(`${path} line 2: byte ${error.byteOffset}`);
    expect(error.message).toContain('not valid UTF-8');
    // Text whose author is not the user (an API's results) may ask for replacement instead.
    expect((await readAll(path, { utf8: 'replace' }))[1]?.text).toBe('{"b":"caf\uFFFD"}');
  });

  it('keeps multi-byte characters cut by a chunk boundary whole', async () => {
    const path = join(dir, 'boundary.jsonl');
    // 64 KiB chunks: put a 4-byte character across the first boundary.
    const head = `{"t":"${'a'.repeat(65_536 - 8)}`;
    writeFileSync(path, `${head}😀"}\n`);
    const [line] = await readAll(path);
    expect(line?.text.endsWith('😀"}')).toBe(true);
  });
});

describe('UTF-8 checks', () => {
  it('points at overlong forms, surrogates, stray continuation bytes and cut sequences', () => {
    const cases: Array<[number[], number]> = [
      [[0x61, 0x62], -1],
      [[0x61, 0xc3, 0xa9, 0x62], -1],
      [[0x61, 0xc0, 0xaf], 1],
      [[0x61, 0x62, 0xed, 0xa0, 0x80], 2],
      [[0x80], 0],
      [[0x61, 0xe2, 0x82], 1],
      [[0xf4, 0x90, 0x80, 0x80], 0],
    ];
    for (const [bytes, offset] of cases)
      expect(invalidUtf8Offset(Uint8Array.from(bytes)), JSON.stringify(bytes)).toBe(offset);
  });

  it('checks a stream across chunks and names the line and offset of the first bad byte', () => {
    const check = new Utf8StreamCheck();
    const euro = Buffer.from('€');
    expect(check.push(Buffer.concat([Buffer.from('a\nb'), euro.subarray(0, 1)]))).toBeUndefined();
    expect(check.push(Buffer.concat([euro.subarray(1), Buffer.from('\nc')]))).toBeUndefined();
    expect(check.push(Buffer.from([0x0a, 0x64, 0xff]))).toEqual({ line: 4, byteOffset: 10 });
    const cut = new Utf8StreamCheck();
    expect(cut.push(Buffer.concat([Buffer.from('x'), euro.subarray(0, 2)]))).toBeUndefined();
    expect(cut.end()).toEqual({ line: 1, byteOffset: 1 });
  });
});
