import { cp, lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { startEmulator } from '../../emulator/index.js';
import { WavebatchError } from '../../errors.js';
import { openWorkloadSession } from '../../runner/workload-session.js';
import { runExitCode } from '../exit-codes.js';
import { listenForStop } from '../graceful-stop.js';
import { formatSummary, ProgressDisplay } from '../progress.js';
import { schemaReference } from '../schema-reference.js';
import { counted } from '../../quantities.js';

const EXAMPLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples/catalogs');
/** Where an installed package's demo runs: a copy in the current folder, not inside node_modules. */
const INSTALLED_DEMO_DIR = 'wavebatch-demo';
/** What the demo leaves out of its copy, then makes there when it runs: outputs and state. */
const MADE_BY_RUNS = ['out', '.wavebatch'];
/**
 * Written into the demo's copy. A `./wavebatch-demo` without it may be the user's own folder (the
 * name is an obvious one to pick), so the demo never removes or fills a folder that lacks it.
 */
const DEMO_MARKER = '.wavebatch-demo';
const MARKER_TEXT =
  'This folder is a copy of the wavebatch demo workload, made by `wavebatch demo`, which replaces it\n' +
  'on its next run (`wavebatch demo --keep` keeps it). Delete this file to keep the demo from touching it.\n';

/** Raised when ./wavebatch-demo exists and is not a copy the demo made: nothing was deleted. */
export class DemoFolderError extends WavebatchError {
  readonly code = 'INPUT_DEMO_FOLDER';
  constructor(folder: string, why: string, next: string) {
    super(`${folder} exists and ${why}; nothing was deleted. ${next}`);
  }
}

/**
 * The demo's config: the example in place in a checkout of the repository; in an installed package
 * (possibly read-only, and no place for outputs) a copy of it in ./wavebatch-demo, made once.
 */
async function demoConfigPath(keep: boolean): Promise<string> {
  if (!EXAMPLE_DIR.split(sep).includes('node_modules')) return join(EXAMPLE_DIR, 'wavebatch.yaml');
  const copy = resolve(INSTALLED_DEMO_DIR);
  await checkDemoCopy(copy, keep);
  if (!keep) await rm(copy, { recursive: true, force: true });
  await cp(EXAMPLE_DIR, copy, {
    recursive: true,
    force: false,
    filter: (source) => !MADE_BY_RUNS.includes(basename(source)),
  });
  await writeFile(join(copy, DEMO_MARKER), MARKER_TEXT);
  const config = join(copy, 'wavebatch.yaml');
  await pointModelineAtSchema(config);
  return config;
}

/**
 * The example's modeline points at the schema from examples/catalogs/ (../../schema/...), which
 * resolves nowhere from the copy: an editor would show no completion or checks for the demo config.
 */
async function pointModelineAtSchema(config: string): Promise<void> {
  const text = await readFile(config, 'utf8');
  const modeline = /^# yaml-language-server: \$schema=.*$/m;
  if (!modeline.test(text)) return;
  const schemaRef = schemaReference(dirname(config));
  await writeFile(config, text.replace(modeline, `# yaml-language-server: $schema=${schemaRef}`));
}

/**
 * Throws unless `copy` is absent or a copy the demo made: it holds the marker and, when it is to be
 * replaced, nothing beside the demo's own files (a note the user put next to them would be lost).
 */
async function checkDemoCopy(copy: string, keep: boolean): Promise<void> {
  const found = await lstat(copy).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  });
  if (found === null) return;
  const elsewhere =
    `The demo makes its copy in ./${INSTALLED_DEMO_DIR} of the current folder: move or remove ` +
    'yours, or run `wavebatch demo` from another folder.';
  if (!found.isDirectory()) throw new DemoFolderError(copy, 'is not a folder', elsewhere);
  const entries = await readdir(copy);
  if (!entries.includes(DEMO_MARKER))
    throw new DemoFolderError(copy, `was not made by the demo (it has no ${DEMO_MARKER} file)`, elsewhere);
  if (keep) return;
  const demoOwn = new Set([...(await readdir(EXAMPLE_DIR)), ...MADE_BY_RUNS, DEMO_MARKER]);
  const others = entries.filter((entry) => !demoOwn.has(entry)).sort();
  if (others.length > 0)
    throw new DemoFolderError(
      copy,
      `holds files the demo did not make (${others.join(', ')})`,
      'Move them elsewhere and the demo replaces the folder, or run `wavebatch demo --keep` to reuse it as it is.',
    );
}

/** `wavebatch demo`: the bundled sample workload, end to end, on an in-process emulator. */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'Run the bundled sample workload (scanned catalogs, chained pages) on a local Gemini emulator',
    )
    .option('--keep', 'keep earlier demo outputs and state (the run then only does what is missing)')
    .action(async (options: { keep?: boolean }) => {
      await runDemo(options.keep ?? false);
    });
}

async function runDemo(keep: boolean): Promise<void> {
  const config = await loadConfig(await demoConfigPath(keep));
  if (!keep) {
    await rm(config.outputs, { recursive: true, force: true });
    await rm(config.data_dir, { recursive: true, force: true });
  }
  // One emulated hour passes every real second; jobs take 1-10 emulated minutes, as small real jobs do.
  const emulator = await startEmulator({
    timeScale: 3600,
    turnaroundMs: { min: 60_000, max: 600_000 },
    seed: 7,
  });
  process.stderr.write(`emulator listening on ${emulator.url}\n`);
  const display = new ProgressDisplay();
  const session = await openWorkloadSession(
    {
      ...config,
      apiKey: 'demo-key',
      api: { ...config.api, base_url: emulator.url },
      execution: { ...config.execution, poll_interval: 250 },
    },
    { onEvent: display.handle },
  );
  const stop = listenForStop(process.stderr, () => session.runner.stopWait());
  try {
    const summary = await session.runner.run(stop.signal);
    display.stop();
    process.exitCode = runExitCode(summary, stop.stoppedBy());
    const ledger = emulator.ledger.entries();
    process.stdout.write(`\n${formatSummary(summary, config.outputs)}\n`);
    process.stdout.write(`emulator ledger: ${counted(ledger.length, 'request')} billed at batch price\n`);
    const sample = join(config.outputs, 'MA/harvard/1901/page_002.json');
    process.stdout.write(
      `\nA page that received its predecessor's output as context: ${relative(process.cwd(), sample)}\n`,
    );
  } finally {
    display.stop();
    stop.dispose();
    await session.close();
    await emulator.close();
  }
}
