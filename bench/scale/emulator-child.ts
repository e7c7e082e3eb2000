// The emulator in its own process, so a benchmark's CPU and wall figures hold only wavebatch's work.
// Usage: node --import tsx bench/scale/emulator-child.ts <storage dir>; prints its URL on one line.
import { startEmulator } from '../../src/emulator/index.js';

const storageDir = process.argv[2];
if (!storageDir) throw new Error('usage: emulator-child.ts <storage dir>');
// Time runs 100,000x fast so jobs turn around in milliseconds; at that pace Google's 48 h file
// lifetime would be 1.7 s real, and results not yet downloaded would vanish while the runner applies
// another job's (it then sends their records again, as it must). A real run has 48 real hours, so the
// files here live that long in real time.
const TIME_SCALE = 100_000;
const emulator = await startEmulator({
  seed: 3,
  timeScale: TIME_SCALE,
  fileTtlMs: 48 * 3600 * 1000 * TIME_SCALE,
  turnaroundMs: { min: 1_000, max: 5_000 },
  storageDir,
  quotas: {
    maxConcurrentBatchJobs: 1000,
    maxEnqueuedTokensPerModel: 10_000_000_000,
    // Flex runs: no rate limit, and answers within a real millisecond, so the run is bound by its own work.
    rpm: 1_000_000_000,
    tpm: 1_000_000_000_000,
    rpd: 1_000_000_000,
  },
  tiers: { flex: { latencyMs: { min: 1_000, max: 50_000 } } },
});
process.stdout.write(`${emulator.url}\n`);
process.on('SIGTERM', () => {
  void emulator.close().then(() => process.exit(0));
});
