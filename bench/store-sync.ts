// Store throughput and memory: streams N records into SQLite, links chains, lists ready records.
// Prints records per second and heap growth against the size of the data streamed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { WorkloadRecord } from '../src/workload/record.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const CHAIN_LENGTH = 50;

let peakHeap = 0;

async function* records(): AsyncIterable<WorkloadRecord> {
  for (let i = 0; i < RECORDS; i++) {
    // Sampled in the stream itself: the sync loop never yields to timers.
    if (i % 5000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    const chain = Math.floor(i / CHAIN_LENGTH);
    yield {
      id: `book${chain}/page_${i % CHAIN_LENGTH}`,
      chainId: `book${chain}`,
      position: i % CHAIN_LENGTH,
      vars: { page: i % CHAIN_LENGTH, title: 'x'.repeat(100) },
      media: [],
    };
  }
}

export async function benchStoreSync(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wb-bench-'));
  const store = new SqliteStore({ path: join(dir, 'state.db') });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  peakHeap = heapBefore;
  const t0 = performance.now();
  const { linked } = await store.syncRecords(() => records());
  const t1 = performance.now();
  // As the runner does: a first sync of chains listed together leaves them linked.
  if (!linked) await store.linkChains();
  await store.refreshReadiness();
  const t2 = performance.now();
  const ready = await store.listReady(1000);
  const t3 = performance.now();
  const streamedBytes = RECORDS * 180;
  console.log(`store-sync: ${RECORDS} records`);
  console.log(
    `  sync        ${(RECORDS / ((t1 - t0) / 1000)).toFixed(0)} records/s (${(t1 - t0).toFixed(0)} ms)`,
  );
  console.log(`  link+ready  ${(t2 - t1).toFixed(0)} ms${linked ? ' (linked by the sync)' : ''}`);
  console.log(
    `  listReady   ${(t3 - t2).toFixed(1)} ms for ${ready.length} chain heads (expected ${Math.min(1000, RECORDS / CHAIN_LENGTH)})`,
  );
  console.log(
    `  peak heap growth ${((peakHeap - heapBefore) / 1e6).toFixed(1)} MB for ~${(streamedBytes / 1e6).toFixed(0)} MB streamed (ratio ${((peakHeap - heapBefore) / streamedBytes).toFixed(3)})`,
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
