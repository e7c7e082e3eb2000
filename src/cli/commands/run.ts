import { join } from 'node:path';
import { Command } from 'commander';
import { openWorkloadSession } from '../../runner/workload-session.js';
import { configOption, loadConfigFromOption } from '../config-option.js';
import { formatSummary, ProgressDisplay } from '../progress.js';

/** `wavebatch run` and `wavebatch run-once`. */
export function runCommands(): Command[] {
  const run = new Command('run')
    .description(
      'Run the workload until every record is done or dead-lettered (resumable: Ctrl-C and run again)',
    )
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  wavebatch run -c wavebatch.yaml')
    .action(async (options: { config?: string }) => {
      await execute(options.config, 'run');
    });
  const once = new Command('run-once')
    .description(
      'Do what can be done now (collect finished jobs, submit new ones) and exit; safe to run from cron',
    )
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExample (crontab, every 10 minutes):\n  */10 * * * * cd /data/catalogs && wavebatch run-once',
    )
    .action(async (options: { config?: string }) => {
      await execute(options.config, 'run-once');
    });
  return [run, once];
}

async function execute(configPath: string | undefined, mode: 'run' | 'run-once'): Promise<void> {
  const config = await loadConfigFromOption(configPath);
  const display = new ProgressDisplay();
  const session = await openWorkloadSession(config, { onEvent: display.handle });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = mode === 'run' ? await session.runner.run(abort.signal) : await session.runner.runOnce();
    display.stop();
    // Closed first: the run's report is written when the session's telemetry drains.
    await session.close();
    process.stdout.write(`${formatSummary(summary, config.outputs, join(config.data_dir, 'report.md'))}\n`);
  } finally {
    display.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await session.close();
  }
}
