import { Command, Option } from 'commander';
import type { BatchJobInfo } from '../../gemini/index.js';
import { baseUrlOption, clientFor, printerFor, type OneoffDeps } from './oneoff-options.js';

const STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;

/** `wavebatch jobs`: every batch job of the project, optionally of one state. */
export function jobsCommand(deps: OneoffDeps = {}): Command {
  return new Command('jobs')
    .description('List the batch jobs of the project (all pages), newest first as the API returns them')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(STATES))
    .option('--json', 'print a JSON array instead of a table')
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch jobs\n  wavebatch jobs --state running\n  wavebatch jobs --state succeeded --json',
    )
    .action(async (options: { state?: BatchJobInfo['state']; json?: boolean; baseUrl?: string }) => {
      const client = clientFor(options, deps);
      const jobs: BatchJobInfo[] = [];
      for await (const job of client.listBatches()) {
        if (!options.state || job.state === options.state) jobs.push(job);
      }
      const print = printerFor(deps);
      if (options.json) {
        // Inline responses can be megabytes per job; a listing reports only how many there are.
        const summaries = jobs.map(({ inlinedResponses, ...job }) => ({
          ...job,
          inlinedResponseCount: inlinedResponses?.length,
        }));
        print(`${JSON.stringify(summaries, null, 2)}\n`);
        return;
      }
      if (jobs.length === 0) {
        print(options.state ? `no ${options.state} jobs\n` : 'no jobs\n');
        return;
      }
      for (const job of jobs) {
        print(`${job.name}  ${job.state.padEnd(9)}  ${job.createTime ?? '-'}  ${job.displayName ?? ''}\n`);
      }
    });
}
