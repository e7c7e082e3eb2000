/** A fenced block of the README marked `<!-- readme-test … -->`, which the package tests run. */
export interface ReadmeExample {
  /** The marker's text, naming the example. */
  title: string;
  /** Folder (under the project) the commands run in. */
  cwd: string;
  /** `sh`: commands for bash; `js`: a module written to `file` and run with node. */
  language: 'sh' | 'js';
  file: string | null;
  commands: string;
}

// A marker pairs with the next fenced block across blank lines: Prettier puts one between an HTML
// comment and the fence after it, and the README is kept formatted by Prettier.
const MARKED_BLOCK =
  /^<!-- readme-test(?: cwd=(\S+))?(?: file=(\S+))?: (.*?) -->\n(?:[ \t]*\n)*```(sh|js)\n([\s\S]*?)^```$/gm;

/**
 * The README's fenced `sh` blocks marked `<!-- readme-test: … -->` (or `<!-- readme-test
 * cwd=<folder>: … -->`) before them, and its `js` blocks marked `<!-- readme-test
 * cwd=<folder> file=<name>: … -->`, in order.
 */
export function readmeExamples(readme: string): ReadmeExample[] {
  return [...readme.matchAll(MARKED_BLOCK)].map((match) => ({
    cwd: match[1] ?? '.',
    file: match[2] ?? null,
    title: match[3] ?? '',
    language: match[4] === 'js' ? 'js' : 'sh',
    commands: match[5] ?? '',
  }));
}

/**
 * The README's `sh` blocks with no `readme-test` or `readme-skip` marker as the last non-blank line
 * before them, each as `line <n>: <its first command>`.
 */
export function unmarkedShellBlocks(readme: string): string[] {
  const lines = readme.split('\n');
  return lines.flatMap((line, index) => {
    if (line !== '```sh') return [];
    const before = lines.slice(0, index).findLast((text) => text.trim() !== '') ?? '';
    return /^<!-- readme-(test|skip)[ :]/.test(before) ? [] : [`line ${index + 1}: ${lines[index + 1]}`];
  });
}
