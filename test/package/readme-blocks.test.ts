import { describe, expect, it } from 'vitest';
import { readmeExamples, unmarkedShellBlocks } from './readme-blocks.js';

const fence = '```';

// The README is kept formatted by Prettier, which puts a blank line between a marker and its block.
describe("the README's marked blocks", () => {
  it('pairs a marker with its block across blank lines, as Prettier leaves them', () => {
    const readme = [
      '<!-- readme-test cwd=my-workload: the failures -->',
      '',
      `${fence}sh`,
      'npx wavebatch failures',
      fence,
      '<!-- readme-skip: needs a real API key and Google’s API -->',
      '',
      '',
      `${fence}sh`,
      'npx wavebatch run',
      fence,
      '<!-- readme-test cwd=my-workload file=library.mjs: the library -->',
      '',
      `${fence}js`,
      "import { runWorkload } from 'wavebatch';",
      fence,
    ].join('\n');
    expect(readmeExamples(readme)).toEqual([
      {
        cwd: 'my-workload',
        file: null,
        title: 'the failures',
        language: 'sh',
        commands: 'npx wavebatch failures\n',
      },
      {
        cwd: 'my-workload',
        file: 'library.mjs',
        title: 'the library',
        language: 'js',
        commands: "import { runWorkload } from 'wavebatch';\n",
      },
    ]);
    expect(unmarkedShellBlocks(readme)).toEqual([]);
  });

  it('still refuses a block with prose, not a marker, before it', () => {
    const readme = [
      '<!-- readme-test: the quick start -->',
      '',
      'Then, in the workload:',
      '',
      `${fence}sh`,
      'npx wavebatch status',
      fence,
      '',
      `${fence}sh`,
      'npx wavebatch log',
      fence,
    ].join('\n');
    expect(readmeExamples(readme)).toEqual([]);
    expect(unmarkedShellBlocks(readme)).toEqual([
      'line 5: npx wavebatch status',
      'line 9: npx wavebatch log',
    ]);
  });
});
