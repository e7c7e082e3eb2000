// Runs every benchmark in turn and prints figures and ratios (no pass/fail thresholds: read the numbers).
import { benchStoreSync } from './store-sync.js';

const benches: Array<[string, () => Promise<void>]> = [['store-sync', benchStoreSync]];
const only = process.argv[2];
for (const [name, bench] of benches) {
  if (only && name !== only) continue;
  await bench();
}
