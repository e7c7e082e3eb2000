import { cp, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { startEmulator } from '../../emulator/index.js';
import { openWorkloadSession } from '../../runner/workload-session.js';
import { runExitCode } from '../exit-codes.js';
import { listenForStop } from '../graceful-stop.js';
import { formatSummary, ProgressDisplay } from '../progress.js';

const EXAMPLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples/catalogs');
/** Where an installed package's demo runs: a copy in the current folder, not inside node_modules. */
const INSTALLED_DEMO_DIR = 'wavebatch-demo';

/**
 * The demo's config: the example in place in a checkout of the repository; in an installed package
 * (possibly read-only, and no place for outputs) a copy of it in ./wavebatch-demo, made once.
 */
async function demoConfigPath(keep: boolean): Promise<string> {
  if (!EXAMPLE_DIR.split(sep).includes('node_modules')) return join(EXAMPLE_DIR, 'wavebatch.yaml');
  const copy = resolve(INSTALLED_DEMO_DIR);
  if (!keep) await rm(copy, { recursive: true, force: true });
  await cp(EXAMPLE_DIR, copy, {
    recursive: true,
    force: false,
    filter: (source) => !['out', '.wavebatch'].includes(basename(source)),
  });
  return join(copy, 'wavebatch.yaml');
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
  const stop = listenForStop();
  try {
    const summary = await session.runner.run(stop.signal);
    display.stop();
    process.exitCode = runExitCode(summary, stop.stoppedBy());
    const ledger = emulator.ledger.entries();
    process.stdout.write(`\n${formatSummary(summary, config.outputs)}\n`);
    process.stdout.write(`emulator ledger: ${ledger.length} requests billed at batch price\n`);
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
