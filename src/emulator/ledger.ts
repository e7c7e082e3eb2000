import type { Lane } from '../lanes/lane.js';
import type { RecordFault } from './model/index.js';

/** One billed model call. */
export interface LedgerEntry {
  at: string; // emulated ISO time
  mode: 'batch' | 'realtime';
  /** The lane billed: 'batch', or the service tier that served a generateContent call. */
  lane: Lane;
  model: string; // e.g. 'gemini-2.5-flash' (no 'models/' prefix)
  key: string | null; // batch: the request's key; realtime: null
  batchName: string | null; // 'batches/...' for batch
  promptText: string; // all text parts of the request (system instruction first), joined with '\n'
  inputTokens: number;
  /** Billed output: the answer plus the thinking tokens (Google bills both as output). */
  outputTokens: number;
  /** The part of outputTokens spent thinking (usageMetadata.thoughtsTokenCount). */
  thoughtsTokens: number;
  outcome: 'ok' | RecordFault; // what the model produced
  costUsd: number; // at the lane's price (src/pricing): batch and flex 50% of standard
}

/** What the emulator billed, queryable by tests. */
export interface Ledger {
  /** Copies of the entries, oldest first. */
  entries(): LedgerEntry[];
  /** Forgets every entry. */
  clear(): void;
}

/** Sums over a ledger's entries. */
export interface LedgerTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The in-memory ledger behind `emulator.ledger` and `GET /_emulator/ledger`. */
export class MemoryLedger implements Ledger {
  private readonly list: LedgerEntry[] = [];

  /** Bills one model call. */
  record(entry: LedgerEntry): void {
    this.list.push(entry);
  }

  /** Copies, so a test cannot rewrite what was billed. */
  entries(): LedgerEntry[] {
    return this.list.map((entry) => ({ ...entry }));
  }

  /** Forgets every entry. */
  clear(): void {
    this.list.length = 0;
  }

  /** Sums over every entry. */
  totals(): LedgerTotals {
    const totals: LedgerTotals = { requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    for (const entry of this.list) {
      totals.requests += 1;
      totals.inputTokens += entry.inputTokens;
      totals.outputTokens += entry.outputTokens;
      totals.costUsd += entry.costUsd;
    }
    totals.costUsd = Math.round(totals.costUsd * 1e9) / 1e9;
    return totals;
  }
}
