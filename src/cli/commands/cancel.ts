import { Command } from 'commander';
import type { CancelOutcome } from '../../service/index.js';
import { batchName } from '../../service/batch-jobs/index.js';
import { baseUrlOption, printerFor, serviceFor, type OneoffDeps } from './oneoff-options.js';

/** `wavebatch cancel <job...>`: asks the API to cancel each job, then reports the state it reads back. */
export function cancelCommand(deps: OneoffDeps = {}): Command {
  return new Command('cancel')
    .description('Cancel batch jobs; requests already finished are not refunded, the rest never run')
    .argument('<job...>', 'job names (batches/... or just the ids)')
    .addOption(baseUrlOption())
    .addHelpText('after', '\nExamples:\n  wavebatch cancel batches/abc123\n  wavebatch cancel abc123 def456')
    .action(async (jobs: string[], options: { baseUrl?: string }) => {
      // Parsed before the client is made: a malformed name is the user's input, whatever the key.
      const names = jobs.map(batchName);
      const print = printerFor(deps);
      await serviceFor(options, deps).cancel(names, {
        onCancelled: (outcome) => print(`${outcome.name}: ${describeCancel(outcome)}\n`),
      });
    });
}

/** What became of one job, after its name. */
function describeCancel(outcome: CancelOutcome): string {
  switch (outcome.kind) {
    case 'cancelled':
      return 'cancelled';
    case 'requested':
      return `cancel requested, now ${outcome.state} (check with \`wavebatch status ${outcome.name}\`)`;
    case 'already-ended':
      return `already ${outcome.state}; nothing to cancel`;
    default:
      return outcome satisfies never;
  }
}
