import { Command, InvalidArgumentError } from 'commander';
import { systemClock, type RunnerClock } from '../../clock.js';
import { parseDuration } from '../../config/index.js';
import type { BatchJobSummary } from '../../service/index.js';
import { configOption } from '../config-option.js';
import { formatStatus } from '../status-view.js';
import { styleFor } from '../style.js';
import { stdoutReaderGone } from '../reader-gone.js';
import { watch } from '../watch.js';
import { withWorkloadServiceOrEmpty } from '../workload-service.js';
import { batchName } from '../../service/batch-jobs/index.js';
import { baseUrlOption, printerFor, serviceFor, type OneoffDeps } from './oneoff-options.js';
import { counted } from '../../quantities.js';

/** Refresh interval of `--watch` without a value. */
const DEFAULT_WATCH_MS = 5_000;

interface StatusOptions {
  json?: boolean;
  stale?: boolean;
  watch?: number | true;
  config?: string;
  baseUrl?: string;
}

/**
 * `wavebatch status`: the workload at a glance (records, chains, jobs, cost, ETA), or, given a job
 * name, one batch job as the API reports it.
 */
export function statusCommand(deps: OneoffDeps & { clock?: RunnerClock } = {}): Command {
  return new Command('status')
    .description(
      'Show the workload at a glance (records, chains, active jobs, tokens and cost, throughput, ETA), or one batch job',
    )
    .argument('[job]', 'a batch job name (batches/... or just the id): show that job instead of the workload')
    .addOption(configOption())
    .option('--json', 'print JSON (the shapes are documented in the README)')
    .option(
      '--stale',
      'also count stale outputs (made by another prompt, model or input; reads every output)',
    )
    .option(
      '--watch [interval]',
      `refresh every interval (default ${DEFAULT_WATCH_MS / 1000}s; e.g. 2s, 1m) until Ctrl-C`,
      watchInterval,
    )
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch status\n  wavebatch status --watch 10s\n  wavebatch status --json | jq .eta' +
        '\n  wavebatch status --stale' +
        '\n  wavebatch status batches/abc123\n  wavebatch status abc123 --json',
    )
    .action(async (job: string | undefined, options: StatusOptions) => {
      if (job !== undefined) await showJob(job, options, deps);
      else await showWorkload(options, deps.clock ?? systemClock);
    });
}

async function showWorkload(options: StatusOptions, clock: RunnerClock): Promise<void> {
  await withWorkloadServiceOrEmpty(options.config, async (service) => {
    const style = styleFor(process.stdout);
    const render = async () => {
      const status = await service.status({ stale: options.stale === true });
      if (!options.json) return formatStatus(status, style);
      // Watching prints JSON Lines (one status per line); once, an indented document.
      return `${JSON.stringify(status, null, options.watch ? undefined : 2)}\n`;
    };
    if (options.watch === undefined) {
      process.stdout.write(await render());
      return;
    }
    const stop = new AbortController();
    const abort = () => stop.abort();
    process.once('SIGINT', abort);
    process.once('SIGTERM', abort);
    try {
      await watch(render, {
        intervalMs: options.watch === true ? DEFAULT_WATCH_MS : options.watch,
        clock,
        // Stops on Ctrl-C, or once the reader of its output has gone (`status --watch | head -20`).
        signal: AbortSignal.any([stop.signal, stdoutReaderGone]),
        write: (text) => void process.stdout.write(text),
        inPlace: !options.json && process.stdout.isTTY === true,
        separator: options.json ? '' : '\n',
      });
    } finally {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    }
  });
}

async function showJob(job: string, options: StatusOptions, deps: OneoffDeps): Promise<void> {
  // Parsed before the client is made: a malformed name is the user's input, whatever the key.
  const name = batchName(job);
  const summary = await serviceFor(options, deps).status(name);
  printerFor(deps)(options.json ? `${JSON.stringify(summary, null, 2)}\n` : describeJob(summary));
}

/** Longest `--watch` interval: a day. A longer one is a slip of the unit (30d for 30s), not a watch. */
const MAX_WATCH_MS = 86_400_000;

/** Parses `--watch`'s interval: a duration from 100 ms to 24 h. */
function watchInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 100 || ms > MAX_WATCH_MS)
    throw new InvalidArgumentError('expected an interval from 100ms to 24h, e.g. 500ms, 5s or 1m.');
  return Math.round(ms);
}

/** A human-readable block about one job (its error message already redacted by the service). */
export function describeJob(info: BatchJobSummary): string {
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
  if (info.inlinedResponseCount !== undefined)
    lines.push(`  results       ${counted(info.inlinedResponseCount, 'inline response')}`);
  if (info.error?.message) lines.push(`  error         ${info.error.message}`);
  if (info.state === 'succeeded') lines.push(`  next          wavebatch fetch ${info.name}`);
  return `${lines.join('\n')}\n`;
}
