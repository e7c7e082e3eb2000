import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NEEDED_NODE, olderNode } from '../fixtures/older-node.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'wavebatch.js');

describe('the wavebatch command on a Node older than it needs', () => {
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('refuses with exit 2 and names the Node it needs and the one it found, reading engines from package.json', () => {
    // The real bin in a package whose engines asks for a Node newer than any: the running Node is
    // then "older", and nothing past the check is loaded (this package has no src/ or dist/).
    root = mkdtempSync(join(tmpdir(), 'wb-node-version-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync(BIN, join(root, 'bin', 'wavebatch.js'));
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({ type: 'module', engines: { node: '>=99.3' } }),
    );
    const result = spawnSync(process.execPath, [join(root, 'bin', 'wavebatch.js'), 'status'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `error [NODE_VERSION]: wavebatch needs Node.js 99.3 or later; this is Node ${process.version} ` +
        `(${process.execPath}). Install Node 24: see "Set-up" in the README.\n`,
    );
  });

  const old = olderNode();
  it.skipIf(old === null)(
    `says so instead of crashing when run by this machine's older Node (${old ?? 'none found'})`,
    () => {
      // Before the check, `status` on Node 20 died of a segmentation fault (exit 139, no message)
      // loading the SQLite driver built for Node 24.
      const result = spawnSync(old as string, [BIN, 'status'], { encoding: 'utf8', cwd: tmpdir() });
      expect(result.status).toBe(2);
      const version = execFileSync(old as string, ['--version'], { encoding: 'utf8' }).trim();
      expect(result.stderr).toBe(
        `error [NODE_VERSION]: wavebatch needs Node.js ${NEEDED_NODE} or later; this is Node ${version} ` +
          `(${old}). Install Node 24: see "Set-up" in the README.\n`,
      );
    },
  );
});
