import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'wavebatch.js');
/** The Node the package declares, e.g. "24.11" of ">=24.11". */
const NEEDED = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    engines: { node: string };
  }
).engines.node.replace(/^>=\s*/, '');

/** A system Node older than the engines range, if this machine has one (CI's Debian has Node 20). */
function olderNode(): string | null {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(/^v(\d+)/.exec(version)?.[1]) < 24) return path;
  }
  return null;
}

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
        `error [NODE_VERSION]: wavebatch needs Node.js ${NEEDED} or later; this is Node ${version} ` +
          `(${old}). Install Node 24: see "Set-up" in the README.\n`,
      );
    },
  );
});
