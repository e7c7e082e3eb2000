import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { failure, makeTempFolder, writeMinimalWorkload, type TempFolder } from './temp-folder.js';

describe('outputs.assemble', () => {
  let folder: TempFolder;
  beforeEach(() => {
    folder = makeTempFolder();
  });
  afterEach(() => folder.remove());

  it('defaults to markdown documents per chain in ./assembled, in position order', async () => {
    const path = writeMinimalWorkload(folder, 'outputs:\n  path: out\n  assemble: {}\n');
    const config = await loadConfig(path, {});
    expect(config.assemble).toEqual({
      by: 'chain',
      order: 'position',
      format: 'markdown',
      path: join(folder.root, 'assembled'),
      separator: '\n\n',
    });
  });

  it('is absent unless configured', async () => {
    const config = await loadConfig(writeMinimalWorkload(folder, 'outputs:\n  path: out\n'), {});
    expect(config.assemble).toBeUndefined();
  });

  it.each([
    ['the output folder itself', 'out'],
    ['a folder inside the output folder', 'out/docs'],
    ['a folder holding the output folder', '.'],
  ])('refuses %s as the assembly folder, naming the key', async (_what, path) => {
    const error = await failure(
      writeMinimalWorkload(folder, `outputs:\n  path: out\n  assemble:\n    path: ${path}\n`),
    );
    expect(error.issues[0]?.key).toBe('outputs.assemble.path');
    expect(error.issues[0]?.message).toContain('overlaps the output folder');
  });

  it('refuses an unknown format or grouping with the accepted values', async () => {
    const error = await failure(
      writeMinimalWorkload(folder, 'outputs:\n  path: out\n  assemble:\n    format: html\n    by: book\n'),
    );
    const messages = error.issues.map((issue) => `${issue.key}: ${issue.message}`).join('\n');
    expect(messages).toContain('outputs.assemble.format: expected one of "markdown", "jsonl", got "html"');
    expect(messages).toContain('outputs.assemble.by: expected "chain", got "book"');
  });
});
