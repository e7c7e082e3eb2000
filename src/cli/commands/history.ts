import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { WavebatchError } from '../../errors.js';
import { LANES, type Lane } from '../../lanes/lane.js';
import { printable } from '../../printable.js';
import type { RecordDetail, WorkloadService } from '../../service/index.js';
import type { EventFilter, RunRow, StoredEvent } from '../../store/event-log.js';
import { configOption } from '../config-option.js';
import { parseInstant } from '../time-option.js';
import {
  withChangedWorkloadService,
  withRunWorkloadService,
  withWorkloadServiceOrEmpty,
} from '../workload-service.js';
import { counted } from '../../quantities.js';

/** Events read from the store per page while `wavebatch log` streams. */
const LOG_PAGE = 1000;

/** Raised when `show` or `report` names a record or run the store does not know. */
export class HistoryNotFoundError extends WavebatchError {
  readonly code = 'INPUT_NOT_FOUND';
}

/** Raised for a numeric option that is not a positive whole number. */
export class HistoryOptionError extends WavebatchError {
  readonly code = 'INPUT_OPTION';
  constructor(option: string, value: string) {
    super(`${option} must be a positive whole number, got "${value}".`);
  }
}

interface LogOptions {
  config?: string;
  record?: string;
  chain?: string;
  job?: string;
  run?: number;
  promptVersion?: string;
  cause?: string;
  kind?: EventFilter['kind'];
  lane?: Lane;
  since?: string;
  until?: string;
  limit?: number;
  json?: boolean;
}

/** log, runs, show, report, prune: the inference log and run history. */
export function historyCommands(): Command[] {
  const log = new Command('log')
    .description(
      'The inference log: every attempt (tokens, cost, outcome, error) and every job or record transition',
    )
    .addOption(configOption())
    .option('--record <id>', 'only this record')
    .option('--chain <id>', 'only this chain')
    .option('--job <id>', 'only this job (local id or batches/… name)')
    .option('--run <id>', 'only events recorded by this run', (v) => positiveInt(v, '--run'))
    .option('--prompt-version <version>', 'only attempts with this prompt version')
    .option('--cause <cause>', 'only failures with this cause (invalid_json, max_tokens, safety, …)')
    .addOption(
      new Option('--kind <kind>', 'only attempts, record or job events').choices([
        'attempt',
        'record',
        'job',
      ]),
    )
    .addOption(new Option('--lane <lane>', 'only this lane').choices(LANES))
    .option('--since <time>', 'from this time on: an ISO date or an age (30m, 12h, 7d)')
    .option('--until <time>', 'before this time: an ISO date or an age')
    .option('--limit <n>', 'at most n events', (v) => positiveInt(v, '--limit'))
    .option('--json', 'one JSON object per line (everything, raw responses and outputs included)')
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch log --cause max_tokens --since 1d\n  wavebatch log --record MA/harvard/1901/page_003\n  wavebatch log --run 12 --kind attempt --json > run12.jsonl',
    )
    .action(async (options: LogOptions) => {
      const filter = logFilter(options, Date.now());
      await withWorkloadServiceOrEmpty(options.config, async (service) => {
        let printed = 0;
        // Only --json prints outputs: the lines are not read back for a listing that does not show them.
        // A page is printed in one write: a write per event made a million-event log a million writes.
        for await (const page of eventPages(service, filter, options.limit, options.json === true)) {
          let text = '';
          for (const event of page)
            text += options.json ? `${JSON.stringify(event)}\n` : `${describeEvent(event)}\n`;
          await print(text);
          printed += page.length;
        }
        if (printed === 0 && !options.json) await print('no events match\n');
      });
    });

  const runs = new Command('runs')
    .description('The run history: each run / run-once with its outcome, counts, tokens and cost')
    .addOption(configOption())
    .option('--limit <n>', 'the n latest runs (default 20)', (v) => positiveInt(v, '--limit'))
    .option('--json', 'print a JSON array')
    .action(async (options: { config?: string; limit?: number; json?: boolean }) => {
      const rows = await withWorkloadServiceOrEmpty(options.config, (service) =>
        service.runs(options.limit ?? 20),
      );
      if (options.json) return print(`${JSON.stringify(rows, null, 2)}\n`);
      if (rows.length === 0) return print('no runs yet\n');
      for (const run of rows) await print(`${describeRun(run)}\n`);
    });

  const show = new Command('show')
    .description(
      'One record: where it stands, its whole history (attempts, errors, costs) and its current output',
    )
    .argument('<record-id>', 'the record id (as in `wavebatch log`)')
    .addOption(configOption())
    .option('--json', 'print the record, its events and its output as JSON')
    .action(async (id: string, options: { config?: string; json?: boolean }) => {
      const detail = await withRunWorkloadService(options.config, (service) => service.record(id));
      if (detail === undefined) return;
      if (!detail)
        throw new HistoryNotFoundError(
          `No record ${JSON.stringify(id)} in this workload; \`wavebatch log\` lists the ids it has seen.`,
        );
      await print(options.json ? `${JSON.stringify(detail, null, 2)}\n` : describeRecord(detail));
    });

  const report = new Command('report')
    .description(
      'The Markdown report of a run (the latest by default); also written to <data_dir>/report.md after every run',
    )
    .argument('[run]', 'run id (see `wavebatch runs`)')
    .addOption(configOption())
    .option('-o, --out <file>', 'write it to this file instead of standard output')
    .action(async (run: string | undefined, options: { config?: string; out?: string }) => {
      const runId = run === undefined ? undefined : positiveInt(run, 'run');
      const markdown = await withRunWorkloadService(options.config, async (service) => {
        const text = await service.report(runId);
        if (text === null || !options.out) return text;
        const out = await service.openExportFile(options.out);
        out.end(text);
        await finished(out);
        return text;
      });
      if (markdown === undefined) return;
      if (markdown === null)
        throw new HistoryNotFoundError(
          runId === undefined
            ? 'No run yet: `wavebatch run` first.'
            : `No run ${runId}; \`wavebatch runs\` lists them.`,
        );
      if (!options.out) await print(markdown);
    });

  const prune = new Command('prune')
    .description(
      'Delete inference-log events older than an age or a date, and the prompts no event refers to any more',
    )
    .addOption(configOption())
    .requiredOption('--older-than <age|date>', 'an age (30d, 12h, 2w) or an ISO date (2025-06-01)')
    .action(async (options: { config?: string; olderThan: string }) => {
      const before = parseInstant('--older-than', options.olderThan, Date.now());
      const pruned = await withChangedWorkloadService(options.config, 'prune', (service) =>
        service.prune(before),
      );
      if (pruned === undefined) return;
      await print(
        `deleted ${counted(pruned.events, 'event')}, ${counted(pruned.texts, 'stored prompt')} and ${counted(pruned.reports, 'run report')} from before ${before.toISOString()}\n`,
      );
    });
  return [log, runs, show, report, prune];
}

function logFilter(options: LogOptions, now: number): EventFilter {
  return {
    ...(options.record ? { recordId: options.record } : {}),
    ...(options.chain ? { chainId: options.chain } : {}),
    ...(options.job ? { job: options.job } : {}),
    ...(options.run ? { runId: options.run } : {}),
    ...(options.promptVersion ? { promptVersion: options.promptVersion } : {}),
    ...(options.cause ? { cause: options.cause } : {}),
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.lane ? { lane: options.lane } : {}),
    ...(options.since ? { since: parseInstant('--since', options.since, now).toISOString() } : {}),
    ...(options.until ? { until: parseInstant('--until', options.until, now).toISOString() } : {}),
  };
}

/** Events page by page (keyset), so a log of millions is never held in memory. */
async function* eventPages(
  service: WorkloadService,
  filter: EventFilter,
  limit: number | undefined,
  outputs: boolean,
): AsyncGenerator<StoredEvent[]> {
  let afterId: number | undefined;
  let left = limit ?? Infinity;
  while (left > 0) {
    const page = await service.events(
      { ...filter, ...(afterId === undefined ? {} : { afterId }), limit: Math.min(LOG_PAGE, left) },
      { outputs },
    );
    if (page.length > 0) yield page;
    if (page.length < LOG_PAGE) return;
    afterId = page[page.length - 1]?.id;
    left -= page.length;
  }
}

/** One line per event: time, what, which record or job, tokens, cost, and why it failed. */
export function describeEvent(event: StoredEvent): string {
  const parts = [event.at, `${event.kind}/${event.type}`.padEnd(18)];
  if (event.recordId) parts.push(event.recordId);
  if (event.attempt !== null && event.kind === 'attempt') parts.push(`attempt ${event.attempt}`);
  if (event.jobName ?? event.jobId) parts.push(`job ${event.jobName ?? event.jobId}`);
  if (event.kind === 'attempt') {
    parts.push(`${event.lane} ${event.model ?? ''}`.trim());
    if (event.promptVersion) parts.push(`prompt ${event.promptName}/${event.promptVersion}`);
    parts.push(`${event.inputTokens}/${event.outputTokens} tokens`, usd(event.costUsd));
    if (event.latencyMs !== null) parts.push(`${(event.latencyMs / 1000).toFixed(1)}s`);
  }
  if (event.requests !== null && event.kind === 'job') parts.push(counted(event.requests, 'request'));
  if (event.cause) parts.push(`[${event.cause}]`);
  if (event.message) parts.push(printable(event.message.replace(/\s+/g, ' ')));
  return parts.join('  ');
}

function describeRun(run: RunRow): string {
  const totals = run.totals;
  const head = `run ${String(run.id).padStart(4)}  ${run.mode.padEnd(8)}  ${run.startedAt}`;
  if (!totals) {
    const state = run.finishedAt ? 'finished' : 'running, or stopped without finishing';
    const usage = run.usage;
    // A killed run never wrote its totals: what it was billed is still in the inference log.
    if (!usage || usage.requests === 0) return `${head}  ${state}`;
    return `${head}  ${state}  ${counted(usage.requests, 'request')}  ${usage.inputTokens}/${usage.outputTokens} tokens  ${usd(usage.costUsd)}`;
  }
  const c = totals.counts;
  const seconds = run.finishedAt ? (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000 : 0;
  return (
    `${head}  ${totals.outcome.padEnd(11)}  ${seconds.toFixed(1)}s  ` +
    `${c.done ?? 0}/${c.total ?? 0} done, ${c.dead ?? 0} dead  ${counted(totals.jobsSubmitted, 'job')}  ${counted(totals.requests, 'request')}  ` +
    `${totals.inputTokens}/${totals.outputTokens} tokens  ${usd(totals.costUsd)}` +
    (totals.lanes.length > 0 ? `  ${totals.lanes.join(',')}` : '') +
    (totals.error ? `  error: ${printable(totals.error)}` : '')
  );
}

function describeRecord(detail: RecordDetail): string {
  const { record } = detail;
  const lines = [
    `${record.id}  ${record.status.toUpperCase()}`,
    `  chain         ${record.chainId} (position ${record.position}${record.predecessorId ? `, after ${record.predecessorId}` : ', first'})`,
    `  attempts      ${record.attempts} failed so far`,
    '',
    'history:',
    ...(detail.events.length === 0
      ? ['  (no events yet)']
      : detail.events.map((e) => `  ${describeEvent(e)}`)),
    '',
  ];
  if (detail.output) {
    lines.push(
      `output (${detail.output.meta.prompt.name}/${detail.output.meta.prompt.version}, ${detail.output.meta.model}, ${detail.output.meta.completedAt}):`,
      JSON.stringify(detail.output.output, null, 2),
    );
  } else lines.push('output: none yet');
  return `${lines.join('\n')}\n`;
}

function usd(value: number | null): string {
  return value === null ? '$?' : `$${value.toFixed(6)}`;
}

/**
 * Writes to standard output with every control character but tab and newline as `\uXXXX`: the log
 * and the outputs quote the API and the model. Text lines are escaped already; JSON escapes ESC but
 * writes DEL and the C1 controls (0x9b is a terminal's ESC [) as they are, and `\u009b` is the same
 * string to a JSON reader.
 */
async function print(text: string): Promise<void> {
  if (!process.stdout.write(printable(text))) await once(process.stdout, 'drain');
}

function positiveInt(value: string, option: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new HistoryOptionError(option, value);
  return parsed;
}
