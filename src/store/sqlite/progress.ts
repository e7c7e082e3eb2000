import type Database from 'better-sqlite3';
import type { ChainCounts, UsageTotal } from '../store.js';

/** Chains by how far they got, in one pass over the records grouped by chain. */
export function chainCounts(db: Database.Database): ChainCounts {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS total,
              COALESCE(SUM(done = n), 0) AS done,
              COALESCE(SUM(dead > 0), 0) AS blocked,
              COALESCE(SUM(dead = 0 AND done < n AND (done > 0 OR flight > 0)), 0) AS inProgress,
              COALESCE(SUM(dead = 0 AND done = 0 AND flight = 0), 0) AS notStarted,
              COALESCE(SUM(CASE WHEN dead > 0 THEN n - done - dead ELSE 0 END), 0) AS recordsBehindDeadLetters
         FROM (SELECT COUNT(*) AS n, SUM(status = 'done') AS done, SUM(status = 'dead') AS dead,
                      SUM(status = 'in_flight') AS flight
                 FROM records GROUP BY chain_id)`,
    )
    .get() as ChainCounts;
  return row;
}

/** Billed tokens of done records, split at `longAbove` input tokens (null: no split). */
export function usageTotals(
  db: Database.Database,
  longAbove: number | null,
): { short: UsageTotal; long: UsageTotal } {
  const sum = db.prepare(
    `SELECT COUNT(*) AS records, COALESCE(SUM(input_tokens), 0) AS inputTokens,
            COALESCE(SUM(output_tokens), 0) AS outputTokens
       FROM records WHERE status = 'done' AND input_tokens > 0 AND input_tokens > ? AND input_tokens <= ?`,
  );
  const limit = longAbove ?? Number.MAX_SAFE_INTEGER;
  return {
    short: sum.get(0, limit) as UsageTotal,
    long: sum.get(limit, Number.MAX_SAFE_INTEGER) as UsageTotal,
  };
}

/** Done records with billed tokens whose last change is at or after `since`. */
export function completedSince(db: Database.Database, since: string): number {
  const row = db
    .prepare(
      `SELECT COUNT(*) AS n FROM records WHERE status = 'done' AND input_tokens > 0 AND updated_at >= ?`,
    )
    .get(since) as { n: number };
  return row.n;
}

/** The largest `remaining` among ready and in-flight records: the depth still to go. */
export function longestRunnableChain(db: Database.Database): number {
  const row = db
    .prepare(`SELECT COALESCE(MAX(remaining), 0) AS n FROM records WHERE status IN ('ready', 'in_flight')`)
    .get() as { n: number };
  return row.n;
}
