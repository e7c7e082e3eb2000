// The emulator in its own process, so a benchmark's CPU and wall figures hold only wavebatch's work.
// Usage: node --import tsx bench/scale/emulator-child.ts <storage dir>; prints its URL on one line.
import { startEmulator } from '../../src/emulator/index.js';

const storageDir = process.argv[2];
if (!storageDir) throw new Error('usage: emulator-child.ts <storage dir>');
const emulator = await startEmulator({
  seed: 3,
  timeScale: 100_000,
  turnaroundMs: { min: 1_000, max: 5_000 },
  storageDir,
  quotas: { maxConcurrentBatchJobs: 1000, maxEnqueuedTokensPerModel: 10_000_000_000 },
});
process.stdout.write(`${emulator.url}\n`);
process.on('SIGTERM', () => {
  void emulator.close().then(() => process.exit(0));
});
