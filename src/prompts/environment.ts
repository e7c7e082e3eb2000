import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { isInside } from '../path-inside.js';
import nunjucks from 'nunjucks';
import { boundedRange } from './sandbox.js';
import { templateText } from './template-text.js';

/**
 * A nunjucks environment configured to behave like Jinja's defaults: no autoescaping (prompts are not
 * HTML), undefined renders empty, no block trimming, one trailing newline dropped from each template
 * (Jinja's keep_trailing_newline=False), True/False/None, and a `tojson` filter. Templates load only
 * from `folder`.
 */
export interface PromptEnvironment {
  environment: nunjucks.Environment;
  /** Every template source the loader served, by absolute path (feeds the template hash). */
  loaded: Map<string, string>;
}

/** Creates the environment for one prompt folder. */
export function createPromptEnvironment(folder: string): PromptEnvironment {
  const loaded = new Map<string, string>();
  const root = resolve(folder);
  const loader: nunjucks.ILoader = {
    getSource(name: string): nunjucks.LoaderSource {
      const path = resolve(root, name);
      if (path === root || !isInside(path, root) || !linksStayInside(path, root)) {
        throw new Error(
          `template ${JSON.stringify(name)} is outside the prompt folder ${root}; includes must stay inside it`,
        );
      }
      const src = dropTrailingNewline(readSource(path, name));
      loaded.set(path, src);
      return { src, path, noCache: false };
    },
  };
  const environment = new nunjucks.Environment(loader, {
    autoescape: false,
    throwOnUndefined: false,
    trimBlocks: false,
    lstripBlocks: false,
  });
  environment.addFilter('tojson', toJson);
  environment.addGlobal('range', boundedRange);
  // Jinja spells its constants both ways; nunjucks only knows the lower-case ones.
  environment.addGlobal('True', true);
  environment.addGlobal('False', false);
  environment.addGlobal('None', null);
  return { environment, loaded };
}

/**
 * Whether `path`, after symbolic links, is still inside `root`: checked as well as the written name,
 * or a link in the prompt folder (`shared.jinja` -> `/etc/passwd`), included by name or by a
 * record's value, read whatever it led to. A missing file passes: reading it says it is not found.
 */
function linksStayInside(path: string, root: string): boolean {
  try {
    return isInside(realpathSync(path), realpathSync(root));
  } catch {
    return true;
  }
}

/** Jinja drops a single trailing newline from every template source unless told otherwise. */
export function dropTrailingNewline(source: string): string {
  if (source.endsWith('\r\n')) return source.slice(0, -2);
  if (source.endsWith('\n')) return source.slice(0, -1);
  return source;
}

function readSource(path: string, name: string): string {
  try {
    return templateText(readFileSync(path), path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')
      throw new Error(`template ${JSON.stringify(name)} not found at ${path}`, { cause: error });
    throw error;
  }
}

/**
 * Jinja's `tojson`: keys sorted (Jinja's default dumps policy), so the rendered prompt, and its hash,
 * do not depend on key order. Unlike Jinja it does not HTML-escape `<>&'`: prompts are not HTML.
 */
function toJson(value: unknown, indent?: unknown): string {
  const spaces = typeof indent === 'number' && indent > 0 ? indent : undefined;
  return JSON.stringify(sortKeys(value) ?? null, null, spaces);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
