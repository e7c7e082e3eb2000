import { basename, join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  importSeedConfig,
  InitAnswerError,
  isWorkloadName,
  STARTER_SOURCES,
  starterFiles,
  workloadNameFrom,
  writeScaffold,
  type SeedConversion,
  type StarterAnswers,
  type StarterSource,
} from '../../scaffold/index.js';
import { questionsOn, type Questions } from '../questions.js';
import { schemaReference } from '../schema-reference.js';

const DEFAULT_MODEL = 'gemini-2.5-flash';
const EMULATOR_URL = 'http://127.0.0.1:8080';

interface InitOptions {
  name?: string;
  source?: StarterSource;
  model?: string;
  baseUrl?: string;
  emulator?: boolean;
  fromSeedConfig?: string;
  force?: boolean;
  yes?: boolean;
  interactive?: boolean;
  json?: boolean;
}

/** `wavebatch init [dir]`: a new workload that runs as it is, or one converted from a seed config. */
export function initCommand(): Command {
  return new Command('init')
    .description(
      'Create a workload (wavebatch.yaml, prompt, response schema, sample data) that runs as it is; asks on a terminal',
    )
    .argument('[dir]', 'folder to create it in (default: the current folder)')
    .option(
      '--name <name>',
      'workload name: lower-case letters, digits and dashes (default: from the folder)',
    )
    .addOption(
      new Option(
        '--source <type>',
        'where records come from: a folder tree of pages, or a JSONL file',
      ).choices(STARTER_SOURCES),
    )
    .option('--model <model>', `Gemini model (default: ${DEFAULT_MODEL})`)
    .option(
      '--base-url <url>',
      'run against this API root (e.g. a `wavebatch emulator`) instead of Google',
      httpUrl,
    )
    .option(
      '--emulator',
      `shorthand for --base-url ${EMULATOR_URL} (start it with \`wavebatch emulator --time-scale 3600\`)`,
    )
    .option(
      '--from-seed-config <file>',
      "convert the seed system's config.yaml instead of writing a starter workload",
    )
    .option('--force', 'overwrite files that exist')
    .option('-y, --yes', 'ask nothing: take the flags and the defaults')
    .option(
      '--interactive',
      'ask even when not on a terminal (answers are read line by line from standard input)',
    )
    .option('--json', 'print what was written (and, for a seed config, what was mapped) as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  wavebatch init my-workload\n  wavebatch init my-workload --emulator --yes' +
        '\n  wavebatch init reviews --source jsonl --model gemini-2.5-flash-lite --yes' +
        '\n  wavebatch init catalogs --from-seed-config ../seed/config.yaml',
    )
    .action(async (dir: string | undefined, options: InitOptions) => {
      const folder = resolve(dir ?? '.');
      const baseUrl = options.baseUrl ?? (options.emulator ? EMULATOR_URL : undefined);
      const schemaRef = schemaReference(folder);
      if (options.fromSeedConfig !== undefined) {
        const name = checkedName(options.name ?? workloadNameFrom(basename(folder)));
        const imported = await importSeedConfig(options.fromSeedConfig, folder, {
          name,
          schemaRef,
          ...(baseUrl ? { baseUrl } : {}),
        });
        const written = await writeScaffold(folder, imported.files, { force: options.force ?? false });
        report(folder, written, options.json ?? false, imported.conversion, baseUrl);
        return;
      }
      const ask = options.interactive || (!options.yes && process.stdin.isTTY && process.stdout.isTTY);
      const answers = ask
        ? await askAnswers(folder, options, baseUrl, schemaRef)
        : {
            name: checkedName(options.name ?? workloadNameFrom(basename(folder))),
            source: options.source ?? 'directory',
            model: options.model ?? DEFAULT_MODEL,
            schemaRef,
            ...(baseUrl ? { baseUrl } : {}),
          };
      const written = await writeScaffold(folder, starterFiles(answers), { force: options.force ?? false });
      report(folder, written, options.json ?? false, null, answers.baseUrl);
    });
}

/** The questions of an interactive init; flags given on the command line are not asked again. */
async function askAnswers(
  folder: string,
  options: InitOptions,
  baseUrl: string | undefined,
  schemaRef: string,
): Promise<StarterAnswers> {
  const questions = questionsOn(process.stdin, process.stderr);
  try {
    const name =
      options.name ??
      (await askUntilValid(
        questions,
        'Workload name',
        workloadNameFrom(basename(folder)),
        (answer) => (isWorkloadName(answer) ? answer : undefined),
        'use lower-case letters, digits and dashes (it prefixes batch job names)',
      ));
    const source =
      options.source ??
      (await askUntilValid(
        questions,
        'Records come from: directory (a folder tree of pages) or jsonl',
        STARTER_SOURCES[0],
        (answer) => STARTER_SOURCES.find((choice) => choice === answer.toLowerCase()),
        `answer one of: ${STARTER_SOURCES.join(', ')}`,
      ));
    const model = options.model ?? (await questions.ask('Gemini model', DEFAULT_MODEL));
    const url =
      baseUrl ??
      (await askUntilValid(
        questions,
        `API root for a local emulator, e.g. ${EMULATOR_URL} ("-" for Google's API with GEMINI_API_KEY)`,
        '-',
        (answer) => (answer === '-' || isHttpUrl(answer) ? answer : undefined),
        `answer an http(s) URL such as ${EMULATOR_URL}, or - for Google's API`,
      ));
    const chosen = url === '-' ? undefined : httpUrl(url);
    return { name: checkedName(name), source, model, schemaRef, ...(chosen ? { baseUrl: chosen } : {}) };
  } finally {
    questions.close();
  }
}

/**
 * Asks until `accept` takes the answer, saying `hint` after each one it refuses. Input that ends
 * after a refused answer is an error (exit 2, nothing written): taking the question's default then
 * made a workload other than the one answered (a refused emulator URL ended init with exit 2 and no
 * message at all).
 */
async function askUntilValid<T>(
  questions: Questions,
  question: string,
  fallback: string,
  accept: (answer: string) => T | undefined,
  hint: string,
): Promise<T> {
  let refused: string | undefined;
  for (;;) {
    const answer = await questions.ask(question, fallback);
    if (refused !== undefined && questions.inputEnded)
      throw new InitAnswerError(
        `${question}: ${JSON.stringify(refused)} was refused (${hint}) and the input ended before another answer; nothing was written.`,
      );
    const accepted = accept(answer);
    if (accepted !== undefined) return accepted;
    process.stderr.write(`  ${hint}\n`);
    refused = answer;
  }
}

function checkedName(name: string): string {
  if (!isWorkloadName(name))
    throw new InitAnswerError(
      `--name ${JSON.stringify(name)} is not a workload name: use lower-case letters, digits and dashes.`,
    );
  return name;
}

function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^\s/]+/.test(value);
}

function httpUrl(value: string): string {
  if (!isHttpUrl(value))
    throw new InvalidArgumentError(
      `expected an http(s) URL such as ${EMULATOR_URL}, got ${JSON.stringify(value)}.`,
    );
  return value.replace(/\/+$/, '');
}

function report(
  folder: string,
  written: string[],
  json: boolean,
  conversion: SeedConversion | null,
  baseUrl: string | undefined,
): void {
  const config = join(folder, 'wavebatch.yaml');
  if (json) {
    const data = {
      folder,
      config,
      written,
      ...(conversion
        ? { mapped: conversion.mapped, unmapped: conversion.unmapped, notes: conversion.notes }
        : {}),
    };
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const shown = relative(process.cwd(), folder) || '.';
  const lines = [`created ${shown}/: ${written.join(', ')}`];
  if (conversion) {
    lines.push('', 'mapped from the seed config:');
    for (const entry of conversion.mapped)
      lines.push(
        `  ${entry.from} -> ${entry.to}: ${JSON.stringify(entry.value)}${entry.note ? `\n      (${entry.note})` : ''}`,
      );
    if (conversion.unmapped.length > 0) {
      lines.push('', 'not mapped:');
      for (const entry of conversion.unmapped) lines.push(`  ${entry.key}: ${entry.reason}`);
    }
    for (const note of conversion.notes) lines.push('', `note: ${note}`);
  }
  const cd = shown === '.' ? [] : [`  cd ${shown}`];
  lines.push(
    '',
    'next:',
    ...cd,
    '  npx wavebatch config check      # validate, and see every default',
    ...(baseUrl
      ? [
          `  npx wavebatch emulator --time-scale 3600 --port ${new URL(baseUrl).port || '80'} &   # a local Gemini (free)`,
        ]
      : // The folder now holds a workload, so a plain `init --emulator` there stops at INPUT_INIT_EXISTS.
        [
          '  export GEMINI_API_KEY=...       # or, for a local emulator: npx wavebatch init --emulator --force',
        ]),
    '  npx wavebatch run               # until every record is done',
    '  npx wavebatch status            # where it stands, at any time',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
