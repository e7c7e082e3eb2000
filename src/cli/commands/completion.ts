import { Argument, Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion.js';

/** `wavebatch completion bash|zsh|fish`: a completion script for every command and option. */
export function completionCommand(): Command {
  return new Command('completion')
    .description('Print a shell completion script for bash, zsh or fish (how to install it is at its top)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(wavebatch completion bash)            # in ~/.bashrc' +
        '\n  source <(wavebatch completion zsh)             # in ~/.zshrc, after compinit' +
        '\n  wavebatch completion fish > ~/.config/fish/completions/wavebatch.fish',
    )
    .action((shell: Shell, _options: unknown, command: Command) => {
      // The root program: main.ts loads every command before parsing `completion`.
      const program = command.parent ?? command;
      process.stdout.write(completionScript(shell, program));
    });
}
