import type { Command, Option } from 'commander';
import { shortenText } from '../results/capped-text.js';

/** Shells `wavebatch completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One option as completion sees it. */
interface OptionSpec {
  short?: string;
  long?: string;
  description: string;
  /** Takes a value: its choices, a path (complete files), or anything. */
  value: { choices: string[] } | 'path' | 'any' | null;
  /** The value may be left out (`--watch [interval]`). */
  valueOptional: boolean;
}

/** One command (or sub-command) as completion sees it. */
interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** Its positional arguments are paths (e.g. `init [dir]`). */
  pathArguments: boolean;
  subcommands: CommandSpec[];
}

/** The completion script for `shell`, from the commands and options the program really has. */
export function completionScript(shell: Shell, program: Command): string {
  const commands = program.commands.map(describe);
  switch (shell) {
    case 'bash':
      return bashScript(commands);
    case 'zsh':
      return zshScript(commands);
    case 'fish':
      return fishScript(commands);
    default:
      return shell satisfies never;
  }
}

function describe(command: Command): CommandSpec {
  const options = [
    ...command.options.filter((option) => !option.hidden).map(optionSpec),
    { short: '-h', long: '--help', description: 'display help', value: null, valueOptional: false },
  ];
  return {
    name: command.name(),
    description: summary(command.description()),
    options,
    pathArguments: command.registeredArguments.some((argument) => /dir|file|path/.test(argument.name())),
    subcommands: command.commands.map(describe),
  };
}

function optionSpec(option: Option): OptionSpec {
  const takesValue = option.required || option.optional;
  const value = !takesValue
    ? null
    : option.argChoices
      ? { choices: option.argChoices }
      : /<(file|path|folder|dir)>/.test(option.flags)
        ? ('path' as const)
        : ('any' as const);
  return {
    ...(option.short ? { short: option.short } : {}),
    ...(option.long ? { long: option.long } : {}),
    description: summary(option.description),
    value,
    valueOptional: option.optional,
  };
}

/** The first sentence, at most 80 characters, on one line. */
function summary(text: string): string {
  const first = text.split(/\n|(?<=\.)\s(?=[A-Z])/)[0]?.trim() ?? '';
  return shortenText(first, 80);
}

function flags(option: OptionSpec): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined);
}

function bashScript(commands: CommandSpec[]): string {
  const words = (list: string[]) => list.join(' ');
  const valueCases: string[] = [];
  const optionCases: string[] = [];
  const visit = (path: string, command: CommandSpec) => {
    for (const option of command.options) {
      if (option.value === null || option.value === 'path' || option.value === 'any') continue;
      const pattern = flags(option)
        .map((flag) => `"${path} ${flag}"`)
        .join('|');
      valueCases.push(
        `    ${pattern}) COMPREPLY=($(compgen -W "${words(option.value.choices)}" -- "$cur")); return ;;`,
      );
    }
    const all = command.options.flatMap(flags);
    const subs = command.subcommands.map((sub) => sub.name);
    optionCases.push(`    "${path}") opts="${words([...subs, ...all])}" ;;`);
    for (const sub of command.subcommands) visit(`${path} ${sub.name}`, sub);
  };
  for (const command of commands) visit(command.name, command);
  const nested = commands.filter((command) => command.subcommands.length > 0).map((command) => command.name);
  return `# wavebatch completion for bash. Load it now:  source <(wavebatch completion bash)
# or for every shell:  wavebatch completion bash > ~/.local/share/bash-completion/completions/wavebatch
_wavebatch() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" opts="" cmd
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W "${words(commands.map((command) => command.name))}" -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  case "$cmd" in
    ${nested.length > 0 ? nested.join('|') : '__none__'})
      if ((COMP_CWORD > 2)); then cmd="$cmd \${COMP_WORDS[2]}"; fi ;;
  esac
  case "$cmd $prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
${optionCases.join('\n')}
  esac
  # An option's value, a path or an id: leave it to the shell's default (file names).
  if [[ $cur == -* || ($COMP_CWORD == 2 && " ${nested.join(' ')} " == *" \${COMP_WORDS[1]} "*) ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  fi
}
complete -o default -o bashdefault -F _wavebatch wavebatch
`;
}

function zshQuote(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/\[/g, '\\[').replace(/\]/g, '\\]');
}

function zshArguments(command: CommandSpec): string[] {
  const specs = command.options.map((option) => {
    const names = flags(option);
    const exclusive = names.length > 1 ? `'(${names.join(' ')})'{${names.join(',')}}` : `'${names[0]}`;
    const head = names.length > 1 ? `${exclusive}'` : exclusive;
    const colon = option.valueOptional ? '::' : ':';
    const value =
      option.value === null
        ? ''
        : option.value === 'path'
          ? `${colon}path:_files`
          : option.value === 'any'
            ? `${colon}value: `
            : `${colon}value:(${option.value.choices.join(' ')})`;
    return `${head}[${zshQuote(option.description)}]${value}'`;
  });
  return [...specs, command.pathArguments ? "'*:path:_files'" : "'*:argument: '"];
}

function zshDescriptions(commands: CommandSpec[]): string {
  return commands
    .map((command) => `    '${command.name}:${zshQuote(command.description).replace(/:/g, '\\:')}'`)
    .join('\n');
}

function zshScript(commands: CommandSpec[]): string {
  const cases = commands.map((command) => {
    if (command.subcommands.length === 0)
      return `    (${command.name}) _arguments -s \\\n      ${zshArguments(command).join(' \\\n      ')} ;;`;
    const subCases = command.subcommands
      .map(
        (sub) =>
          `        (${sub.name}) _arguments -s \\\n          ${zshArguments(sub).join(' \\\n          ')} ;;`,
      )
      .join('\n');
    return `    (${command.name})
      if (( CURRENT == 2 )); then
        local -a subcommands
        subcommands=(
${zshDescriptions(command.subcommands).replace(/^ {4}/gm, '          ')}
        )
        _describe -t commands 'wavebatch ${command.name} command' subcommands
        return
      fi
      local sub=$words[2]
      shift words; (( CURRENT-- ))
      case $sub in
${subCases}
      esac ;;`;
  });
  return `#compdef wavebatch
# wavebatch completion for zsh. Load it now:  source <(wavebatch completion zsh)
# or for every shell:  wavebatch completion zsh > "\${fpath[1]}/_wavebatch"  (then restart zsh)
_wavebatch() {
  if (( CURRENT == 2 )); then
    local -a commands
    commands=(
${zshDescriptions(commands)}
    )
    _describe -t commands 'wavebatch command' commands
    return
  fi
  local cmd=$words[2]
  shift words; (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
  esac
}
if [[ $funcstack[1] == _wavebatch ]]; then _wavebatch "$@"; else compdef _wavebatch wavebatch; fi
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishScript(commands: CommandSpec[]): string {
  const lines = [
    '# wavebatch completion for fish: wavebatch completion fish > ~/.config/fish/completions/wavebatch.fish',
    'complete -c wavebatch -f',
  ];
  const names = commands.map((command) => command.name).join(' ');
  for (const command of commands)
    lines.push(
      `complete -c wavebatch -n 'not __fish_seen_subcommand_from ${names}' -a ${command.name} -d ${fishQuote(command.description)}`,
    );
  const optionLines = (condition: string, command: CommandSpec) => {
    if (command.pathArguments) lines.push(`complete -c wavebatch -n ${fishQuote(condition)} -F`);
    for (const option of command.options) {
      const parts = [`complete -c wavebatch -n ${fishQuote(condition)}`];
      if (option.short) parts.push(`-s ${option.short.replace(/^-/, '')}`);
      if (option.long) parts.push(`-l ${option.long.replace(/^--/, '')}`);
      if (option.value === 'path') parts.push('-r -F');
      else if (option.value === 'any') parts.push('-x');
      else if (option.value !== null) parts.push(`-x -a ${fishQuote(option.value.choices.join(' '))}`);
      parts.push(`-d ${fishQuote(option.description)}`);
      lines.push(parts.join(' '));
    }
  };
  for (const command of commands) {
    const seen = `__fish_seen_subcommand_from ${command.name}`;
    if (command.subcommands.length === 0) {
      optionLines(seen, command);
      continue;
    }
    const subNames = command.subcommands.map((sub) => sub.name).join(' ');
    for (const sub of command.subcommands) {
      lines.push(
        `complete -c wavebatch -n ${fishQuote(`${seen}; and not __fish_seen_subcommand_from ${subNames}`)} -a ${sub.name} -d ${fishQuote(sub.description)}`,
      );
      optionLines(`${seen}; and __fish_seen_subcommand_from ${sub.name}`, sub);
    }
  }
  return `${lines.join('\n')}\n`;
}
