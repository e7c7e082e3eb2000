import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nonBlankLines } from '../../src/jsonl/lines.js';

/** How many of this process's file descriptors point at `path` (Linux). */
function openDescriptors(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(join('/proc/self/fd', fd)) === path) count++;
    } catch {
      // Closed while listing.
    }
  }
  return count;
}

async function expectClosed(path: string): Promise<void> {
  if (!existsSync('/proc/self/fd')) return;
  for (let wait = 0; wait < 50 && openDescriptors(path) > 0; wait++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect(openDescriptors(path)).toBe(0);
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
});
