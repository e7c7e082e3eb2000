import { Command } from 'commander';
import { baseUrlOption, batchName, clientFor, printerFor, type OneoffDeps } from './oneoff-options.js';

/** `wavebatch cancel <job...>`: asks the API to cancel each job. */
export function cancelCommand(deps: OneoffDeps = {}): Command {
  return new Command('cancel')
    .description('Cancel batch jobs; requests already finished are not refunded, the rest never run')
    .argument('<job...>', 'job names (batches/... or just the ids)')
    .addOption(baseUrlOption())
    .addHelpText('after', '\nExamples:\n  wavebatch cancel batches/abc123\n  wavebatch cancel abc123 def456')
    .action(async (jobs: string[], options: { baseUrl?: string }) => {
      const names = jobs.map(batchName);
      const client = clientFor(options, deps);
      const print = printerFor(deps);
      for (const name of names) {
        await client.cancelBatch(name);
        print(`cancel requested: ${name} (check with \`wavebatch status ${name}\`)\n`);
      }
    });
}
