import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceFile, writeAtomically } from '../../src/outputs/durable-files.js';

describe('atomic file replacement', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-durable-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('replaces the file and leaves nothing else in its folder', async () => {
    const path = join(dir, 'manifest.json');
    writeFileSync(path, 'old');
    await replaceFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  // A write that fails (a full disk; here a temp file that cannot be written) used to leave the
  // temp file behind for the manifest and assembled documents.
  it('keeps the old file and removes its temp file when the write fails', async () => {
    const path = join(dir, 'manifest.json');
    writeFileSync(path, 'old');
    const temp = join(dir, '.manifest.json.tmp');
    writeFileSync(temp, '');
    const failed = await writeAtomically(path, temp, 'new', () => open(temp, 'r')).catch((error) => error);
    expect((failed as NodeJS.ErrnoException).code).toBe('EBADF');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });
});
