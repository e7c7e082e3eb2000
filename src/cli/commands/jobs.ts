import { Command, Option } from 'commander';
import type { WorkloadJob } from '../../service/index.js';
import type { JobState } from '../../store/store.js';
import { configOption } from '../config-option.js';
import { count, requestsOf } from '../../quantities.js';
import { withWorkloadServiceOrEmpty } from '../workload-service.js';
import { baseUrlOption, printerFor, serviceFor, type OneoffDeps } from './oneoff-options.js';

/** States as the API reports them; a workload's jobs also know `intent` (not yet created) and `processed`. */
const STATES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'expired',
  'intent',
  'processed',
] as const;
type StateOption = (typeof STATES)[number];

interface JobsOptions {
  state?: StateOption;
  json?: boolean;
  baseUrl?: string;
  config?: string;
  workload?: boolean;
}

/** `wavebatch jobs`: the project's batch jobs from the API, or a workload's jobs from its state store. */
export function jobsCommand(deps: OneoffDeps = {}): Command {
  return new Command('jobs')
    .description(
      "List the project's batch jobs (all pages, newest first as the API returns them), or with --workload / -c the workload's jobs",
    )
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(STATES))
    .option('--json', 'print a JSON array instead of a table')
    .option('--workload', "the workload's jobs from its state store (config: -c, or wavebatch.yaml here)")
    .addOption(configOption())
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch jobs\n  wavebatch jobs --state running\n  wavebatch jobs --state succeeded --json' +
        '\n  wavebatch jobs --workload --state running',
    )
    .action(async (options: JobsOptions) => {
      if (options.workload || options.config !== undefined) await listWorkloadJobs(options, deps);
      else await listProjectJobs(options, deps);
    });
}

async function listProjectJobs(options: JobsOptions, deps: OneoffDeps): Promise<void> {
  const jobs = await serviceFor(options, deps).list(options.state ? { state: options.state } : {});
  const print = printerFor(deps);
  if (options.json) {
    print(`${JSON.stringify(jobs, null, 2)}\n`);
    return;
  }
  if (jobs.length === 0) {
    print(options.state ? `no ${options.state} jobs\n` : 'no jobs\n');
    return;
  }
  for (const job of jobs) {
    print(`${job.name}  ${job.state.padEnd(9)}  ${job.createTime ?? '-'}  ${job.displayName ?? ''}\n`);
  }
}

async function listWorkloadJobs(options: JobsOptions, deps: OneoffDeps): Promise<void> {
  const print = printerFor(deps);
  const states: JobState[] | undefined = options.state ? [options.state] : undefined;
  const jobs = await withWorkloadServiceOrEmpty(options.config, (service) => service.jobs(states));
  if (options.json) {
    print(`${JSON.stringify(jobs, null, 2)}\n`);
    return;
  }
  if (jobs.length === 0) {
    print(options.state ? `no ${options.state} jobs in this workload\n` : 'no jobs in this workload yet\n');
    return;
  }
  for (const job of jobs) print(`${describeWorkloadJob(job)}\n`);
}

/** One line per job: local id, remote name, lane, state, requests (and records when grouped), tokens, creation time. */
function describeWorkloadJob(job: WorkloadJob): string {
  const tokens =
    job.inputTokens + job.outputTokens > 0
      ? `  ${count(job.inputTokens)} in / ${count(job.outputTokens)} out tokens`
      : '';
  return (
    `${job.id}  ${job.remoteName ?? '(not created)'}  ${job.lane}  ${job.state.padEnd(9)}  ` +
    `${requestsOf(job.requestCount, job.recordCount)}  ${job.createdAt}${tokens}${job.error ? `  error: ${job.error}` : ''}`
  );
}
