import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordRun } from '../../src/runner/run-record.js';
import { MAX_SERVER_MESSAGE_BYTES } from '../../src/errors.js';
import type { RunProgress } from '../../src/runner/run-summary.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { everyFileUnder } from '../fixtures/echoed-secrets.js';
import { registerSecret } from '../../src/secrets/redact.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const KEY = 'wb-run-record-secret-8c2e4a6f1b';

/** Nothing done: the figures of a run that threw at once. */
const NOTHING: RunProgress = {
  runId: 0,
  counts: { total: 0, ready: 0, blocked: 0, in_flight: 0, done: 0, dead: 0 },
  jobsSubmitted: 0,
  activeJobs: 0,
  unconfirmedJobs: 0,
  unansweredRequests: 0,
  elapsedMs: 0,
  orphansCancelled: 0,
  stalledJobs: 0,
  finished: false,
  lanes: {},
  batchOnly: null,
};

// A run that throws keeps its error in the runs table. It was kept as thrown: whole (an error
// quoting a megabyte page put the megabyte in the row, and every `runs` line printed it) and
// unredacted, the key included.
describe("a failed run's row", () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wb-run-record-'));
    store = new SqliteStore({ path: join(dir, 'state.db') });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its error redacted and cut once, the key gone even where the cut falls inside it', async () => {
    registerSecret(KEY);
    const events: RunnerEvent[] = [];
    const deps = {
      store,
      clock: { now: () => 0, sleep: async () => undefined },
      emit: (event: RunnerEvent) => void events.push(event),
      configHash: null,
      priced: true,
    };
    // The key straddles the cut: cut first, its first half would be left, no longer a whole key. The
    // workload's code threw it: as any text from outside wavebatch, it is cut to 4 kB.
    const head = 'x'.repeat(MAX_SERVER_MESSAGE_BYTES - 10);
    const message = `${head}${KEY} ${'y'.repeat(1_000_000)}`;
    const thrown = new Error(message);
    await expect(
      recordRun(deps, 'run', {
        begin: () => undefined,
        progress: async () => NOTHING,
        work: () => Promise.reject(thrown),
      }),
    ).rejects.toBe(thrown);
    await store.close();
    const [row] = await (store = new SqliteStore({ path: join(dir, 'state.db') })).listRuns();
    const error = row?.totals?.error ?? '';
    expect(error.startsWith(`${head}[redacted]`)).toBe(true);
    expect(error).toMatch(/… \[truncated: \d+ bytes in all, first 4096 kept\]$/);
    expect(Buffer.byteLength(error)).toBeLessThan(MAX_SERVER_MESSAGE_BYTES + 100);
    const finished = events.find((event) => event.type === 'run-finished');
    expect(finished).toMatchObject({ error });
    // Not even the key's first characters, in the database or its journal.
    expect(everyFileUnder(dir).includes(KEY.slice(0, 10))).toBe(false);
  });
});
