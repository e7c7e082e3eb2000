import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';

const hasShell = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

// The scripts as each shell runs them: bash's completion function, fish's `complete -C`, zsh's parser.
describe('wavebatch completion', () => {
  let dir: string;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wb-completion-'));
    for (const shell of ['bash', 'zsh', 'fish']) {
      const result = await runCli(['completion', shell]);
      expect(result.code).toBe(0);
      scripts[shell] = result.stdout;
      writeFileSync(join(dir, shell), result.stdout);
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What bash's completion offers for the words typed so far (the last one being completed). */
  function bash(...words: string[]): string[] {
    const script = `source ${join(dir, 'bash')}; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _wavebatch; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean);
  }

  it('bash completes commands, sub-commands, options and option choices', () => {
    expect(bash('wavebatch', 'st')).toEqual(['status']);
    expect(bash('wavebatch', 'e')).toEqual(['emulator', 'estimate', 'export']);
    expect(bash('wavebatch', 'status', '--w')).toEqual(['--watch']);
    expect(bash('wavebatch', 'jobs', '--state', 'r')).toEqual(['running']);
    expect(bash('wavebatch', 'export', '-f', '')).toEqual([
      'jsonl',
      'csv',
      'parquet',
      'chains',
      'files',
      'assembled',
    ]);
    expect(bash('wavebatch', 'config', '')).toContain('check');
    expect(bash('wavebatch', 'config', 'check', '--j')).toEqual(['--json']);
    // A path or an id: left to the shell's file-name completion.
    expect(bash('wavebatch', 'run', '-c', 'wave')).toEqual([]);
  });

  it.skipIf(!hasShell('fish'))('fish completes commands, options and choices', () => {
    const complete = (line: string) =>
      execFileSync('fish', ['-c', `source ${join(dir, 'fish')}; complete -C '${line}'`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((entry) => entry.split('\t')[0]);
    expect(complete('wavebatch sta')).toEqual(['status']);
    expect(complete('wavebatch jobs --state r')).toEqual(['running']);
    expect(complete('wavebatch config ')).toEqual(['check']);
    expect(complete('wavebatch init --fro')).toEqual(['--from-seed-config']);
  });

  it.skipIf(!hasShell('zsh'))('zsh parses the script and registers it with compdef', () => {
    const result = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -U compinit; compinit -u -D; source ${join(dir, 'zsh')}; print -r -- $_comps[wavebatch]`,
      ],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('_wavebatch');
  });

  it('covers every command with its options in every shell', () => {
    for (const script of Object.values(scripts)) {
      for (const name of ['run', 'status', 'init', 'export', 'failures', 'completion', 'config']) {
        expect(script).toContain(name);
      }
    }
    expect(scripts.zsh).toContain("'--watch[refresh every interval");
    expect(scripts.fish).toContain('-l from-seed-config -r -F');
  });

  it('refuses an unknown shell with exit code 2', async () => {
    const result = await runCli(['completion', 'powershell']);
    expect(result.code).toBe(2);
  });
});
