import { Command } from 'commander';
import type { BatchJobInfo } from '../../gemini/index.js';
import { baseUrlOption, batchName, clientFor, onJob, printerFor, type OneoffDeps } from './oneoff-options.js';

/** `wavebatch status <job>`: state, times, request counts and where the results are. */
export function statusCommand(deps: OneoffDeps = {}): Command {
  return new Command('status')
    .description('Show one batch job: state, times, request counts, results location, error')
    .argument('<job>', 'job name (batches/... or just the id)')
    .option('--json', 'print the job as JSON (inline responses left out; use `wavebatch fetch`)')
    .addOption(baseUrlOption())
    .addHelpText('after', '\nExamples:\n  wavebatch status batches/abc123\n  wavebatch status abc123 --json')
    .action(async (job: string, options: { json?: boolean; baseUrl?: string }) => {
      const name = batchName(job);
      const client = clientFor(options, deps);
      const info = await onJob(name, () => client.getBatch(name));
      const print = printerFor(deps);
      const { inlinedResponses, ...summary } = info;
      if (options.json) {
        print(`${JSON.stringify({ ...summary, inlinedResponseCount: inlinedResponses?.length }, null, 2)}\n`);
        return;
      }
      print(describeJob(info));
    });
}

/** A human-readable block about one job. */
export function describeJob(info: BatchJobInfo): string {
  const lines = [`${info.name}  ${info.state.toUpperCase()}`];
  if (info.displayName) lines.push(`  display name  ${info.displayName}`);
  if (info.model) lines.push(`  model         ${info.model}`);
  if (info.createTime) lines.push(`  created       ${info.createTime}`);
  if (info.updateTime) lines.push(`  updated       ${info.updateTime}`);
  if (info.endTime) lines.push(`  ended         ${info.endTime}`);
  const stats = info.stats;
  if (stats) {
    lines.push(
      `  requests      ${stats.requestCount ?? '?'} total, ${stats.successfulRequestCount ?? 0} succeeded, ` +
        `${stats.failedRequestCount ?? 0} failed, ${stats.pendingRequestCount ?? 0} pending`,
    );
  }
  if (info.resultsFileName) lines.push(`  results file  ${info.resultsFileName}`);
  if (info.inlinedResponses) lines.push(`  results       ${info.inlinedResponses.length} inline responses`);
  if (info.error?.message) lines.push(`  error         ${info.error.message}`);
  if (info.state === 'succeeded') lines.push(`  next          wavebatch fetch ${info.name}`);
  return `${lines.join('\n')}\n`;
}
