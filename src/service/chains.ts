import type { WorkloadStore } from '../store/store.js';
import type { ChainRecords } from './chain-export.js';

/** The workload's chains, each with its records in position order, read from the store a page at a time. */
export async function* storedChains(
  store: Pick<WorkloadStore, 'listRecords'>,
  pageSize = 1000,
): AsyncIterable<ChainRecords> {
  let current: ChainRecords | null = null;
  let after: { chainId: string; position: number } | undefined;
  for (;;) {
    const page = await store.listRecords({
      order: 'chain',
      limit: pageSize,
      ...(after ? { afterChain: after } : {}),
    });
    for (const record of page) {
      if (current && current.chainId !== record.chainId) {
        yield current;
        current = null;
      }
      current ??= { chainId: record.chainId, records: [] };
      current.records.push(record);
    }
    const last = page.at(-1);
    if (!last || page.length < pageSize) break;
    after = { chainId: last.chainId, position: last.position };
  }
  if (current) yield current;
}
