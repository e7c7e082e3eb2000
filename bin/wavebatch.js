#!/usr/bin/env node
// The `wavebatch` command. An installed package (no src/ shipped) runs the compiled dist/ with plain
// Node. A source checkout runs src/ through tsx even when a dist/ exists: a dist/ left over from an
// earlier `npm run build` or `npm pack` would otherwise run stale code behind the developer's back.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// An older Node than package.json's engines (npm only warns at install) crashed at the first store
// access with a bare segmentation fault, exit 139 and no message: the SQLite driver's binary was
// built for Node 24. Checked here, before anything is loaded, against the engines range itself.
const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node ?? '';
const needed = /^>=\s*(\d+)(?:\.(\d+))?/.exec(engines);
const [major, minor] = process.versions.node.split('.').map(Number);
if (
  needed &&
  (major < Number(needed[1]) || (major === Number(needed[1]) && minor < Number(needed[2] ?? 0)))
) {
  process.stderr.write(
    `error [NODE_VERSION]: wavebatch needs Node.js ${needed[1]}.${needed[2] ?? 0} or later; this is Node ` +
      `${process.version} (${process.execPath}). Install Node 24: see "Set-up" in the README.\n`,
  );
  process.exit(2);
}
const source = join(root, 'src', 'cli', 'main.ts');
const compiled = join(root, 'dist', 'cli', 'main.js');
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(compiled).href);
}
