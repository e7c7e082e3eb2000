import { join } from 'node:path';
import { Command, Option } from 'commander';
import { openWorkloadSession } from '../../runner/workload-session.js';
import { configOption, loadWorkloadConfig, type WorkloadOptions } from '../config-option.js';
import { runExitCode } from '../exit-codes.js';
import { listenForStop } from '../graceful-stop.js';
import { logOptions, logSettings, type LogOptions } from '../log-options.js';
import { startOpenTelemetry } from '../opentelemetry-setup.js';
import { formatSummary, ProgressDisplay } from '../progress.js';
import { baseUrlOption } from './oneoff-options.js';
import { promptWarnings } from './unread-fields.js';
import { loadPrompt } from '../../prompts/index.js';
import { WavebatchError } from '../../errors.js';
import type { RunSummary } from '../../runner/run-summary.js';
import {
  applySelection,
  planRunSelection,
  WorkloadService,
  type RecordSelection,
  type SelectionPlan,
} from '../../service/index.js';
import { questionsOn } from '../questions.js';
import { confirmRedo, selectionFrom, selectionOptions, type SelectionOptions } from '../selection-options.js';
import { formatDryRun, formatSelection } from '../selection-view.js';
import { styleFor } from '../style.js';
import { jsonNumbers } from './estimate.js';

type RunOptions = WorkloadOptions & LogOptions & SelectionOptions & { redo?: 'stale'; json?: boolean };

/** Raised when `--redo stale` (the whole workload) is combined with a selection. */
export class RedoWithSelectionError extends WavebatchError {
  readonly code = 'INPUT_SELECTION';
  constructor() {
    super(
      '--redo stale queues stale outputs across the whole workload; use it without --only/--filter/--limit, or redo a selection with --force.',
    );
  }
}

/** `wavebatch run` and `wavebatch run-once`. */
export function runCommands(): Command[] {
  const run = new Command('run')
    .description(
      'Run the workload until every record is done or dead-lettered (resumable: Ctrl-C and run again)',
    )
    .addOption(configOption())
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      '\nExit codes: 0 all done, 3 finished with dead letters, 130 Ctrl-C (state saved), 143 SIGTERM,\n' +
        '1 failed, 2 bad input.\n\nExamples:\n  wavebatch run -c wavebatch.yaml\n  wavebatch run --limit 20 --dry-run\n' +
        "  wavebatch run --filter state=TX,year=1990..1999\n  wavebatch run --only 'TX/**' --force --yes",
    )
    .action(async (options: RunOptions) => {
      await execute(options, 'run');
    });
  const once = new Command('run-once')
    .description(
      'Do what can be done now (collect finished jobs, submit new ones) and exit; safe to run from cron',
    )
    .addOption(configOption())
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      '\nExit codes: 0 pass done, 3 the workload has dead letters, 1 failed (e.g. a job could not be\n' +
        'created: API unreachable), 2 bad input, 130/143 stopped by a signal after the pass.\n\n' +
        'Example (crontab, every 10 minutes):\n  */10 * * * * cd /data/catalogs && npx wavebatch run-once',
    )
    .action(async (options: RunOptions) => {
      await execute(options, 'run-once');
    });
  for (const command of [run, once]) {
    for (const option of logOptions()) command.addOption(option);
    command.addOption(
      new Option(
        '--redo <what>',
        'stale: first queue again the records whose output was made by another prompt version, model or input',
      ).choices(['stale']),
    );
    for (const option of selectionOptions()) command.addOption(option);
    command.option('--json', 'print the summary (or the --dry-run plan) as JSON (shape in the README)');
  }
  return [run, once];
}

async function execute(options: RunOptions, mode: 'run' | 'run-once'): Promise<void> {
  const logging = logSettings(options);
  const config = await loadWorkloadConfig(options);
  const selection = selectionFrom(options);
  if (selection && options.redo) throw new RedoWithSelectionError();
  // Said before anything is sent: a field the source lacks renders as a blank in every prompt.
  const prompt = await loadPrompt(config.prompt.dir, config.prompt.name, config.prompt.version);
  const warnings = await promptWarnings(config, prompt);
  if (options.dryRun) {
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    await dryRun(config, selection ?? {}, options);
    return;
  }
  const display = new ProgressDisplay({
    level: logging.level,
    ...(logging.format ? { format: logging.format } : {}),
  });
  for (const warning of warnings) display.handle({ type: 'warning', message: warning });
  const otel = await startOpenTelemetry();
  const session = await openWorkloadSession(config, {
    onEvent: display.handle,
    ...(otel ? { openTelemetry: otel.delivery } : {}),
    ...(options.redo ? { redo: options.redo } : {}),
  });
  const stop = listenForStop(process.stderr, () => session.runner.stopWait());
  try {
    const plan = selection ? await selectFor(session, config, selection, options) : null;
    if (plan) process.stderr.write(formatSelection(plan, selection?.force ?? false));
    const summary =
      mode === 'run' ? await session.runner.run(stop.signal) : await session.runner.runOnce(stop.signal);
    display.stop();
    // Closed first: the run's report is written when the session's telemetry drains.
    await session.close();
    const reportPath = join(config.data_dir, 'report.md');
    process.stdout.write(
      options.json
        ? `${JSON.stringify(summaryJson(summary, config.outputs, reportPath, plan), null, 2)}\n`
        : `${formatSummary(summary, config.outputs, reportPath, plan !== null)}\n`,
    );
    const stoppedBy = stop.stoppedBy();
    if (stoppedBy) process.stderr.write('stopped with its state saved; run `wavebatch run` again to go on\n');
    process.exitCode = runExitCode(summary, stoppedBy);
  } finally {
    display.stop();
    stop.dispose();
    await session.close();
    const otelLate = otel !== null && !(await otel.shutdown());
    if (otelLate)
      display.warn('OpenTelemetry export did not finish in time; the rest of the spans were dropped');
    // An unanswered export must not hold the process open: leave once everything else is done.
    if (otelLate || session.exportsLate()) setTimeout(() => process.exit(), 100).unref();
  }
}

/**
 * Plans the selection on the session's store (its lease held), confirms a large --force, then
 * narrows the session's store to it: the runner sends only the selected records and finishes when
 * they are settled.
 */
async function selectFor(
  session: Awaited<ReturnType<typeof openWorkloadSession>>,
  config: Awaited<ReturnType<typeof loadWorkloadConfig>>,
  selection: RecordSelection,
  options: RunOptions,
): Promise<SelectionPlan> {
  const plan = await planRunSelection({ store: session.store, outputs: session.outputs, config }, selection);
  const onTerminal = process.stdin.isTTY && process.stderr.isTTY;
  await confirmRedo(
    plan,
    options.yes ?? false,
    onTerminal ? () => questionsOn(process.stdin, process.stderr) : null,
  );
  await applySelection(session.store, plan);
  return plan;
}

/** `--dry-run`: the plan and its estimate; no job, no request, no record changes state. */
async function dryRun(
  config: Awaited<ReturnType<typeof loadWorkloadConfig>>,
  selection: RecordSelection,
  options: RunOptions,
): Promise<void> {
  const service = WorkloadService.open(config);
  try {
    const plan = await service.planSelection(selection);
    const sending = new Set(plan.send);
    const estimate = await service.estimate({ include: (record) => sending.has(record.id) });
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ dryRun: true, selection: plan, estimate }, jsonNumbers, 2)}\n`
        : formatDryRun(plan, estimate, selection.force ?? false, styleFor(process.stdout)),
    );
  } finally {
    await service.close();
  }
}

/** The `--json` shape of a run's end (documented in the README). */
function summaryJson(
  summary: RunSummary,
  outputs: string,
  report: string,
  plan: SelectionPlan | null,
): Record<string, unknown> {
  return {
    ...summary,
    outputs,
    report,
    selection: plan
      ? {
          matched: plan.matched,
          sent: plan.send.length,
          redone: plan.redo.length,
          waiting: plan.waiting,
          limited: plan.limited,
        }
      : null,
  };
}
