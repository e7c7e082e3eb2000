#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { reportError } from './report-error.js';
import { limitHeapGrowth } from '../runner/heap-growth.js';
import { outliveEarlyReaders } from './reader-gone.js';
import { reportStallBeforeExit } from './stalled-command.js';
import { VERSION } from '../package-manifest.js';
import { COMMAND_MODULES, MODULE_OF } from './command-modules.js';

// A reader closing its pipe early (`| head`) drops the rest of the output; the command goes on to its end.
outliveEarlyReaders();

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
    COMMAND_MODULES[moduleName] && moduleName !== 'completion'
      ? [COMMAND_MODULES[moduleName]]
      : Object.values(COMMAND_MODULES);
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
