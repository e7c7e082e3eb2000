/**
 * The prompt registry: versioned Jinja-compatible templates under `<dir>/<name>/<version>.jinja`, with
 * an optional system instruction, rendered per record with a hash that identifies what was sent.
 */
import { readPromptFiles } from './registry.js';
import { compilePrompt, type PromptTemplate } from './template.js';

export { PromptError, type PromptErrorCode } from './errors.js';
export { listVersions } from './registry.js';
export {
  assertPromptFitsGrouping,
  renderedHash,
  type PromptTemplate,
  type PromptVariables,
  type RenderedPrompt,
} from './template.js';

/** Loads and compiles one prompt version; syntax errors surface here, before any run starts. */
export async function loadPrompt(dir: string, name: string, version: string): Promise<PromptTemplate> {
  const files = await readPromptFiles(dir, name, version);
  return compilePrompt(name, version, files);
}
