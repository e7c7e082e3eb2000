import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { configOption } from '../config-option.js';
import { withWorkloadServiceOrEmpty } from '../workload-service.js';

const FORMATS = ['jsonl', 'csv', 'parquet', 'chains', 'files', 'assembled'] as const;
type Format = (typeof FORMATS)[number];

/** `wavebatch export`: the outputs as JSON Lines, CSV, Parquet, a CSV per chain, bare JSON files, or a document per chain. */
export function exportCommand(): Command {
  return new Command('export')
    .description(
      'Export the outputs: JSON Lines, a CSV or Parquet row per record, a CSV per chain, bare JSON files, or a document per chain (assembled)',
    )
    .addOption(configOption())
    .addOption(
      new Option(
        '-f, --format <format>',
        'jsonl (one document with its metadata per line), csv (a row per record), ' +
          'parquet (the csv columns in a Parquet file: id, output as JSON, prompt, model, job, tokens, time), ' +
          'chains (a row per chain, its outputs merged in page order), files (<out>/<id>.json, the output alone), ' +
          'assembled (a document per chain in position order, as outputs.assemble; into --out or outputs.assemble.path)',
      )
        .choices(FORMATS)
        .default('jsonl'),
    )
    .option(
      '-o, --out <path>',
      'file to write (default: standard output); a folder for --format files and assembled',
    )
    .option('-q, --quiet', 'do not print how many were exported')
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch export > outputs.jsonl\n  wavebatch export -f csv -o outputs.csv' +
        '\n  wavebatch export -f parquet -o outputs.parquet' +
        '\n  wavebatch export -f chains -o books.csv\n  wavebatch export -f files -o clean/' +
        '\n  wavebatch export -f assembled -o books/',
    )
    .action(
      async (
        options: { config?: string; format: Format; out?: string; quiet?: boolean },
        command: Command,
      ) => {
        // A usage error (exit code 2), before anything is opened or written.
        if (options.format === 'files' && !options.out)
          command.error('error: --format files needs --out <folder>', { exitCode: 2 });
        // Parquet is binary: on a terminal it would be noise, and could leave it in a strange state.
        if (options.format === 'parquet' && !options.out && process.stdout.isTTY)
          command.error(
            'error: --format parquet writes a binary file: give --out <file> or redirect standard output',
            { exitCode: 2 },
          );
        const count = await withWorkloadServiceOrEmpty(options.config, async (service) => {
          if (options.format === 'files') return service.exportOutputFiles(options.out as string);
          if (options.format === 'assembled') return service.exportAssembled(options.out);
          const out = options.out ? await service.openExportFile(options.out) : process.stdout;
          const written =
            options.format === 'chains'
              ? await service.exportChains(out)
              : await service.exportOutputs(options.format, out);
          if (out !== process.stdout) {
            out.end();
            await finished(out);
          }
          return written;
        });
        if (!options.quiet) {
          const what =
            options.format === 'chains' ? 'chains' : options.format === 'assembled' ? 'documents' : 'outputs';
          process.stderr.write(`exported ${count} ${what}${options.out ? ` to ${options.out}` : ''}\n`);
        }
      },
    );
}
