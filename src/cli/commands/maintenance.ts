import { createWriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify } from 'csv-stringify';
import type { FailureRow } from '../../store/store.js';
import { openWorkloadStore } from '../../runner/workload-session.js';
import { configOption, loadConfigFromOption } from '../config-option.js';
import type { WorkloadStore } from '../../store/store.js';
import { WavebatchError } from '../../errors.js';

/** Raised when a destructive command is run without its confirmation flag. */
export class ConfirmationRequiredError extends WavebatchError {
  readonly code = 'CONFIRMATION_REQUIRED';
  constructor(command: string) {
    super(`\`wavebatch ${command}\` deletes state; run it again with --yes to confirm.`);
    this.name = 'ConfirmationRequiredError';
  }
}

async function withStore<T>(
  configPath: string | undefined,
  work: (store: WorkloadStore) => Promise<T>,
): Promise<T> {
  const store = openWorkloadStore(await loadConfigFromOption(configPath));
  try {
    return await work(store);
  } finally {
    await store.close();
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
    .option('--limit <n>', 'list at most n failures', (v) => positiveInt(v, '--limit'))
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch failures --by-cause\n  wavebatch failures --dead --export csv -o dead.csv',
    )
    .action(
      async (options: {
        config?: string;
        dead?: boolean;
        byCause?: boolean;
        export?: 'csv' | 'jsonl';
        out?: string;
        limit?: number;
      }) => {
        await withStore(options.config, async (store) => {
          if (options.byCause) {
            for (const { cause, count } of await store.failureCauses())
              process.stdout.write(`${String(count).padStart(8)}  ${cause}\n`);
            return;
          }
          const rows = await store.listFailures({
            deadOnly: options.dead ?? false,
            ...(options.limit ? { limit: options.limit } : {}),
          });
          const out = options.out ? createWriteStream(options.out) : process.stdout;
          if (options.export) await exportFailures(rows, options.export, out);
          else
            for (const row of rows)
              out.write(
                `${row.at}  ${row.recordId}  attempt ${row.attempt}  [${row.cause}]${row.final ? ' DEAD' : ''}  ${row.message}\n`,
              );
          if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
        });
      },
    );

  const requeue = new Command('requeue')
    .description('Put dead-lettered records back in the queue with fresh retries (all, or the ids given)')
    .argument('[ids...]', 'record ids (default: every dead letter)')
    .addOption(configOption())
    .action(async (ids: string[], options: { config?: string }) => {
      const count = await withStore(options.config, (store) =>
        store.requeueDead(ids.length > 0 ? ids : undefined),
      );
      process.stdout.write(`requeued ${count} records; run \`wavebatch run\` to process them\n`);
    });

  const clear = new Command('clear-failures')
    .description('Delete the failure log and reset every attempt count')
    .addOption(configOption())
    .option('--yes', 'confirm')
    .action(async (options: { config?: string; yes?: boolean }) => {
      if (!options.yes) throw new ConfirmationRequiredError('clear-failures');
      const count = await withStore(options.config, (store) => store.clearFailures());
      process.stdout.write(`cleared ${count} failure entries\n`);
    });

  const reset = new Command('reset')
    .description(
      'Delete all state (records, jobs, failures); output files are kept and count as done on the next run',
    )
    .addOption(configOption())
    .option('--yes', 'confirm')
    .action(async (options: { config?: string; yes?: boolean }) => {
      if (!options.yes) throw new ConfirmationRequiredError('reset');
      await withStore(options.config, (store) => store.reset());
      process.stdout.write('state reset; output files were kept\n');
    });
  return [failures, requeue, clear, reset];
}

function positiveInt(value: string, option: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`${option} must be a positive whole number, got "${value}"`);
  return parsed;
}

async function exportFailures(
  rows: FailureRow[],
  format: 'csv' | 'jsonl',
  out: NodeJS.WritableStream,
): Promise<void> {
  if (format === 'jsonl') {
    for (const row of rows) out.write(`${JSON.stringify(row)}\n`);
    return;
  }
  const csv = stringify({
    header: true,
    columns: [
      'at',
      'recordId',
      'jobId',
      'attempt',
      'cause',
      'final',
      'message',
      'promptName',
      'promptVersion',
      'promptHash',
      'raw',
    ],
  });
  csv.pipe(out, { end: false });
  for (const row of rows) csv.write(row);
  csv.end();
  await new Promise<void>((resolve) => csv.on('end', resolve));
}
