import { Command } from 'commander';
import { baseUrlOption, batchName, clientFor, onJob, printerFor, type OneoffDeps } from './oneoff-options.js';

/** `wavebatch cancel <job...>`: asks the API to cancel each job, then reports the state it reads back. */
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
        // A job that already ended keeps its state; say so rather than claim a cancellation.
        const before = await onJob(name, () => client.getBatch(name));
        if (before.state !== 'pending' && before.state !== 'running') {
          print(`${name}: already ${before.state}; nothing to cancel\n`);
          continue;
        }
        await onJob(name, () => client.cancelBatch(name));
        const after = await onJob(name, () => client.getBatch(name));
        print(
          after.state === 'cancelled'
            ? `${name}: cancelled\n`
            : `${name}: cancel requested, now ${after.state} (check with \`wavebatch status ${name}\`)\n`,
        );
      }
    });
}
