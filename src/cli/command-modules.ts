import type { Command } from 'commander';

/**
 * Each command's module, loaded only when that command runs: the SDK, SQLite, the emulator and the
 * template engine are heavy, and `wavebatch status` should not pay for `wavebatch emulator`.
 */
export const COMMAND_MODULES: Record<string, () => Promise<Command[]>> = {
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
export const MODULE_OF: Record<string, string> = {
  'run-once': 'run',
  requeue: 'failures',
  'clear-failures': 'failures',
  reset: 'failures',
  runs: 'log',
  show: 'log',
  report: 'log',
  prune: 'log',
};

/** Every command of the CLI, each module loaded (for completion, help, and the README's check). */
export async function allCommands(): Promise<Command[]> {
  const loaded = await Promise.all(Object.values(COMMAND_MODULES).map((load) => load()));
  return loaded.flat();
}
