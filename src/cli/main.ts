#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { emulatorCommand } from './commands/emulator.js';
import { demoCommand } from './commands/demo.js';
import { maintenanceCommands } from './commands/maintenance.js';
import { runCommands } from './commands/run.js';
import { submitCommand } from './commands/submit.js';
import { jobsCommand } from './commands/jobs.js';
import { statusCommand } from './commands/status.js';
import { fetchCommand } from './commands/fetch.js';
import { cancelCommand } from './commands/cancel.js';
import { reportError } from './report-error.js';

const program = new Command('wavebatch')
  .description('Run large, dependency-chained Gemini workloads through the Batch API: resumable, crash-safe, observable.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

for (const command of [
  ...runCommands(),
  demoCommand(),
  emulatorCommand(),
  submitCommand(),
  jobsCommand(),
  statusCommand(),
  fetchCommand(),
  cancelCommand(),
  ...maintenanceCommands(),
]) {
  program.addCommand(command.exitOverride());
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(error);
  }
}
