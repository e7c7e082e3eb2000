import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertSupportedNode, enginesRange, olderThanEngines } from '../src/node-version.js';
import { NEEDED_NODE, olderNode } from './fixtures/older-node.js';

const ROOT = join(import.meta.dirname, '..');

describe('olderThanEngines', () => {
  it('names the Node a >=X.Y range asks for when the version is older, by major then minor', () => {
    expect(olderThanEngines('>=24.11', '20.20.2')).toBe('24.11');
    expect(olderThanEngines('>=24.11', '24.10.9')).toBe('24.11');
    expect(olderThanEngines('>= 24', '23.99.0')).toBe('24.0');
    expect(olderThanEngines('>=24.11', '24.11.0')).toBeNull();
    expect(olderThanEngines('>=24.11', '24.21.0')).toBeNull();
    expect(olderThanEngines('>=24.11', '25.0.0')).toBeNull();
  });

  it('skips a range of any other form rather than refuse a Node wrongly', () => {
    expect(olderThanEngines('^24', '20.0.0')).toBeNull();
    expect(olderThanEngines('', '20.0.0')).toBeNull();
    expect(olderThanEngines('24.x', '20.0.0')).toBeNull();
  });

  it('passes the Node running the tests (package.json engines read from beside the code)', () => {
    // A wrong path to package.json would read no range and pass any Node: the range itself is checked.
    expect(enginesRange()).toBe(`>=${NEEDED_NODE}`);
    expect(() => assertSupportedNode()).not.toThrow();
  });
});

describe('the library on a Node older than it needs', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const old = olderNode();
  it.skipIf(old === null)(
    `throws NODE_VERSION when it opens a store on this machine's older Node (${old ?? 'none found'}), creating nothing`,
    () => {
      // Before the check a program using the library died of a segmentation fault (exit 139, no
      // message) when the SQLite driver built for Node 24 opened the database. The bin checks for
      // the command; a library user goes through the public entry and SqliteStore.
      dir = mkdtempSync(join(tmpdir(), 'wb-node-version-lib-'));
      const script = join(dir, 'open-store.mjs');
      writeFileSync(
        script,
        `const { SqliteStore } = await import(${JSON.stringify(join(ROOT, 'src', 'index.ts'))});
try {
  new SqliteStore({ path: ${JSON.stringify(join(dir, 'state', 'state.db'))} });
  console.log('opened');
} catch (error) {
  console.log(JSON.stringify({ code: error.code, category: error.category, name: error.name, message: error.message }));
}
`,
      );
      const result = spawnSync(old as string, ['--import', 'tsx', script], { encoding: 'utf8', cwd: ROOT });
      expect(result.status, result.stderr).toBe(0);
      const version = execFileSync(old as string, ['--version'], { encoding: 'utf8' }).trim();
      expect(JSON.parse(result.stdout)).toEqual({
        code: 'NODE_VERSION',
        category: 'input',
        name: 'NodeVersionError',
        message:
          `wavebatch needs Node.js ${NEEDED_NODE} or later; this is Node ${version} (${old}). ` +
          'Install Node 24: see "Set-up" in the README.',
      });
      expect(existsSync(join(dir, 'state'))).toBe(false);
    },
  );
});
