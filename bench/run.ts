// Runs every benchmark in turn and prints figures and ratios (no pass/fail thresholds: read the numbers).
// `npm run bench -- <name>` runs one in this process; with no name each runs in its own child process,
// so peak RSS and heap figures are not inflated by the benchmarks that ran before it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchCliStart } from './cli-start.js';
import { benchEmulatorUpload } from './emulator-upload.js';
import { benchLanes } from './lanes.js';
import { benchOrchestrator } from './orchestrator.js';
import { benchOutputsWrite } from './outputs-write.js';
import { benchResultsParse } from './results-parse.js';
import { benchScale } from './scale.js';
import { benchStoreSync } from './store-sync.js';

const benches: Array<[string, () => Promise<void>]> = [
  ['store-sync', benchStoreSync],
  ['results-parse', benchResultsParse],
  ['outputs-write', benchOutputsWrite],
  ['emulator-upload', benchEmulatorUpload],
  ['orchestrator', benchOrchestrator],
  ['scale', benchScale],
  ['lanes', benchLanes],
  ['cli-start', benchCliStart],
];

const only = process.argv[2];
if (only) {
  const bench = benches.find(([name]) => name === only)?.[1];
  if (!bench) {
    console.error(`Unknown benchmark "${only}"; choose one of: ${benches.map(([name]) => name).join(', ')}.`);
    process.exit(2);
  }
  await bench();
} else {
  const script = fileURLToPath(import.meta.url);
  for (const [name] of benches) {
    const child = spawnSync(process.execPath, [...process.execArgv, script, name], { stdio: 'inherit' });
    if (child.status !== 0) {
      console.error(`Benchmark ${name} failed (exit ${child.status ?? child.signal}).`);
      process.exitCode = 1;
    }
  }
}
