#!/usr/bin/env node
// The `wavebatch` command. An installed package (no src/ shipped) runs the compiled dist/ with plain
// Node. A source checkout runs src/ through tsx even when a dist/ exists: a dist/ left over from an
// earlier `npm run build` or `npm pack` would otherwise run stale code behind the developer's back.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'main.ts');
const compiled = join(root, 'dist', 'cli', 'main.js');
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(compiled).href);
}
