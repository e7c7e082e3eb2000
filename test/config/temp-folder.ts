import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

/** A real folder under the OS temp dir for one test file; `remove()` in afterEach/afterAll. */
export interface TempFolder {
  root: string;
  /** Absolute path of a file or folder inside the root. */
  path(relative: string): string;
  /** Writes a file (creating its folders) and returns its absolute path. */
  write(relative: string, content: string): string;
  /** Creates a folder (and its parents) and returns its absolute path. */
  folder(relative: string): string;
  remove(): void;
}

export function makeTempFolder(prefix = 'wb-config-'): TempFolder {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    path: (relative) => join(root, relative),
    write: (relative, content) => {
      const path = join(root, relative);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      return path;
    },
    folder: (relative) => {
      const path = join(root, relative);
      mkdirSync(path, { recursive: true });
      return path;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The smallest valid YAML config over `data.jsonl` and `prompts/`, plus extra top-level lines. */
export function minimalYaml(extra = ''): string {
  return [
    'name: test-workload',
    'source:',
    '  type: jsonl',
    '  path: data.jsonl',
    'prompt:',
    '  name: page',
    '  version: v1',
    'model:',
    '  name: gemini-2.5-flash',
    extra,
  ].join('\n');
}

/** Writes the files `minimalYaml` refers to. */
export function writeMinimalWorkload(folder: TempFolder, extraYaml = ''): string {
  folder.write('prompts/page/v1.jinja', 'Hello {{ record.name }}\n');
  folder.write('data.jsonl', '{"id": "a", "name": "A"}\n');
  return folder.write('wavebatch.yaml', minimalYaml(extraYaml));
}

/** Loads a config expected to fail and returns its ConfigError. */
export async function failure(path: string): Promise<ConfigError> {
  const error = await loadConfig(path, {}).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}
