import { finished } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { WavebatchError } from '../../errors.js';
import { printable } from '../../printable.js';
import type { FailureRow } from '../../store/store.js';
import { configOption } from '../config-option.js';
import { withChangedWorkloadService, withWorkloadServiceOrEmpty } from '../workload-service.js';
import { counted } from '../../quantities.js';

/** Raised when a destructive command is run without its confirmation flag. */
export class ConfirmationRequiredError extends WavebatchError {
  readonly code = 'CONFIRMATION_REQUIRED';
  constructor(command: string) {
    super(`\`wavebatch ${command}\` deletes state; run it again with --yes to confirm.`);
  }
}

/** failures, requeue, clear-failures, reset. */
export function maintenanceCommands(): Command[] {
  const failures = new Command('failures')
    .description('List failures (every attempt, or only dead letters), group them by cause, or export them')
    .addOption(configOption())
    .option('--dead', 'only records that exhausted their retries')
    .option('--by-cause', 'count failures per cause instead of listing them')
    .addOption(
      new Option('--export <format>', 'write all failures as csv or jsonl').choices(['csv', 'jsonl']),
    )
    .option('-o, --out <file>', 'file for --export (default: standard output)')
    .addOption(
      new Option(
        '--json',
        'print a JSON array (of failures, or of { cause, count } with --by-cause)',
      ).conflicts('export'),
    )
    .option('-v, --verbose', 'under each failure, its prompt version and hash, job, and the raw response')
    .option('--limit <n>', 'list at most n failures', (v) => positiveInt(v, '--limit'))
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch failures --by-cause\n  wavebatch failures --dead --export csv -o dead.csv\n  wavebatch failures --dead --json',
    )
    .action(
      async (options: {
        config?: string;
        dead?: boolean;
        byCause?: boolean;
        json?: boolean;
        verbose?: boolean;
        export?: 'csv' | 'jsonl';
        out?: string;
        limit?: number;
      }) => {
        await withWorkloadServiceOrEmpty(options.config, async (service) => {
          const none = options.dead ? 'no dead letters\n' : 'no failures recorded\n';
          if (options.byCause) {
            const causes = await service.failureCauses();
            if (options.json) process.stdout.write(printable(`${JSON.stringify(causes, null, 2)}\n`));
            else if (causes.length === 0) process.stdout.write(none);
            else
              for (const { cause, count } of causes)
                process.stdout.write(`${String(count).padStart(8)}  ${cause}\n`);
            return;
          }
          const filter = {
            deadOnly: options.dead ?? false,
            ...(options.limit ? { limit: options.limit } : {}),
          };
          if (options.json) {
            // JSON writes DEL and the C1 controls of the API's messages raw; escaped, the same strings.
            process.stdout.write(printable(`${JSON.stringify(await service.failures(filter), null, 2)}\n`));
            return;
          }
          // An export stays a valid (empty) file; a listing says when there is nothing to list.
          const rows = options.export ? [] : await service.failures(filter);
          if (!options.export && rows.length === 0) {
            process.stdout.write(none);
            return;
          }
          const out = options.out ? await service.openExportFile(options.out) : process.stdout;
          if (options.export) await service.exportFailures(options.export, out, filter);
          else
            for (const row of rows) {
              out.write(
                `${row.at}  ${row.recordId}  attempt ${row.attempt}  [${row.cause}]${row.final ? ' DEAD' : ''}  ${printable(row.message)}\n`,
              );
              if (options.verbose) out.write(failureDetails(row));
            }
          if (out !== process.stdout) {
            out.end();
            await finished(out);
          }
        });
      },
    );

  const requeue = new Command('requeue')
    .description(
      'Put dead-lettered records back in the queue with fresh retries (all, or the ids given); refused while a run is active',
    )
    .argument('[ids...]', 'record ids (default: every dead letter)')
    .addOption(configOption())
    .option('--json', 'print { "requeued": N }')
    .action(async (ids: string[], options: { config?: string; json?: boolean }) => {
      const count = await withChangedWorkloadService(options.config, 'requeue', (service) =>
        service.requeue(ids),
      );
      if (count === undefined) {
        if (options.json) process.stdout.write(`${JSON.stringify({ requeued: 0 })}\n`);
        return;
      }
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ requeued: count })}\n`
          : `requeued ${counted(count, 'record')}; run \`wavebatch run\` to process ${count === 1 ? 'it' : 'them'}\n`,
      );
    });

  const clear = new Command('clear-failures')
    .description('Delete the failure log and reset every attempt count; refused while a run is active')
    .addOption(configOption())
    .option('--yes', 'confirm')
    .option('--json', 'print { "cleared": N }')
    .action(async (options: { config?: string; yes?: boolean; json?: boolean }) => {
      if (!options.yes) throw new ConfirmationRequiredError('clear-failures');
      const count = await withChangedWorkloadService(options.config, 'clear', (service) =>
        service.clearFailures(),
      );
      if (count === undefined) {
        if (options.json) process.stdout.write(`${JSON.stringify({ cleared: 0 })}\n`);
        return;
      }
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ cleared: count })}\n`
          : `cleared ${count} failure ${count === 1 ? 'entry' : 'entries'}\n`,
      );
    });

  const reset = new Command('reset')
    .description(
      'Delete all state (records, jobs, failures); output files are kept and count as done on the next run. Refused while a run is active',
    )
    .addOption(configOption())
    .option('--yes', 'confirm')
    .option('--json', 'print { "reset": true, "outputsKept": true }')
    .action(async (options: { config?: string; yes?: boolean; json?: boolean }) => {
      if (!options.yes) throw new ConfirmationRequiredError('reset');
      const done = await withChangedWorkloadService(options.config, 'reset', async (service) => {
        await service.reset();
        return true;
      });
      if (done === undefined) {
        if (options.json) process.stdout.write(`${JSON.stringify({ reset: false, outputsKept: true })}\n`);
        return;
      }
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ reset: true, outputsKept: true })}\n`
          : 'state reset; output files were kept\n',
      );
    });
  return [failures, requeue, clear, reset];
}

/** The indented detail lines of `failures --verbose`. */
function failureDetails(row: FailureRow): string {
  const lines = [
    `prompt ${row.promptName ?? '-'} ${row.promptVersion ?? '-'} (hash ${row.promptHash?.slice(0, 12) ?? '-'})  job ${row.jobId ?? '-'}`,
    ...(row.raw === null
      ? ['raw response: none']
      : [
          'raw response:',
          ...printable(row.raw)
            .split('\n')
            .map((line) => `  ${line}`),
        ]),
  ];
  return `${lines.map((line) => `    ${line}`).join('\n')}\n`;
}

/** Commander reports this as a usage error (exit code 2) naming the option. */
function positiveInt(value: string, option: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError(`${option} must be a positive whole number, e.g. ${option} 20.`);
  return parsed;
}
