#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { reportError } from './report-error.js';
import { limitHeapGrowth } from '../runner/heap-growth.js';
import { outliveEarlyReaders } from './reader-gone.js';
import { reportStallBeforeExit } from './stalled-command.js';
import { VERSION } from '../package-manifest.js';

// A reader closing its pipe early (`| head`) drops the rest of the output; the command goes on to its end.
outliveEarlyReaders();

/**
 * Each command's module, loaded only when that command runs: the SDK, SQLite, the emulator and the
 * template engine are heavy, and `wavebatch status` should not pay for `wavebatch emulator`.
 */
const COMMANDS: Record<string, () => Promise<Command[]>> = {
  run: async () => (await import('./commands/run.js')).runCommands(),
  demo: async () => [(await import('./commands/demo.js')).demoCommand()],
  emulator: async () => [(await import('./commands/emulator.js')).emulatorCommand()],
  submit: async () => [(await import('./commands/submit.js')).submitCommand()],
  jobs: async () => [(await import('./commands/jobs.js')).jobsCommand()],
  status: async () => [(await import('./commands/status.js')).statusCommand()],
  estimate: async () => [(await import('./commands/estimate.js')).estimateCommand()],
  fetch: async () => [(await import('./commands/fetch.js')).fetchCommand()],
  cancel: async () => [(await import('./commands/cancel.js')).cancelCommand()],
  failures: async () => (await import('./commands/maintenance.js')).maintenanceCommands(),
  doctor: async () => [(await import('./commands/doctor.js')).doctorCommand()],
  init: async () => [(await import('./commands/init.js')).initCommand()],
  config: async () => (await import('./commands/config.js')).configCommands(),
  log: async () => (await import('./commands/history.js')).historyCommands(),
  export: async () => [(await import('./commands/export.js')).exportCommand()],
  completion: async () => [(await import('./commands/completion.js')).completionCommand()],
};
/** Commands that live in a module registered under another name. */
const MODULE_OF: Record<string, string> = {
  'run-once': 'run',
  requeue: 'failures',
  'clear-failures': 'failures',
  reset: 'failures',
  runs: 'log',
  show: 'log',
  report: 'log',
  prune: 'log',
};

const program = new Command('wavebatch')
  .description(
    'Run large, dependency-chained Gemini workloads through the Batch API: resumable, crash-safe, observable.',
  )
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

const commandEnded = reportStallBeforeExit();
try {
  // First, before the heap grows: a long run's peak memory follows V8's growth, not its data.
  limitHeapGrowth();
  const requested = process.argv[2] ?? '';
  const moduleName = MODULE_OF[requested] ?? requested;
  // `completion` describes every command, so it needs them all, as an unknown command (or help) does.
  const loaders =
    COMMANDS[moduleName] && moduleName !== 'completion' ? [COMMANDS[moduleName]] : Object.values(COMMANDS);
  for (const load of loaders) {
    for (const command of await load()) program.addCommand(command.exitOverride());
  }
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Unknown command or option, missing or invalid argument; --help and --version exit 0.
    process.exitCode = error.exitCode === 0 ? ExitCode.Done : ExitCode.BadInput;
  } else {
    process.exitCode = reportError(error);
  }
} finally {
  commandEnded();
}
