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
        '1 failed, 2 bad input.\n\nExample:\n  wavebatch run -c wavebatch.yaml',
    )
    .action(async (options: WorkloadOptions & LogOptions & { redo?: 'stale' }) => {
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
    .action(async (options: WorkloadOptions & LogOptions & { redo?: 'stale' }) => {
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
  }
  return [run, once];
}

async function execute(
  options: WorkloadOptions & LogOptions & { redo?: 'stale' },
  mode: 'run' | 'run-once',
): Promise<void> {
  const logging = logSettings(options);
  const config = await loadWorkloadConfig(options);
  const display = new ProgressDisplay({
    level: logging.level,
    ...(logging.format ? { format: logging.format } : {}),
  });
  const otel = await startOpenTelemetry();
  const session = await openWorkloadSession(config, {
    onEvent: display.handle,
    ...(options.redo ? { redo: options.redo } : {}),
  });
  const stop = listenForStop();
  try {
    const summary = mode === 'run' ? await session.runner.run(stop.signal) : await session.runner.runOnce();
    display.stop();
    // Closed first: the run's report is written when the session's telemetry drains.
    await session.close();
    process.stdout.write(`${formatSummary(summary, config.outputs, join(config.data_dir, 'report.md'))}\n`);
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
