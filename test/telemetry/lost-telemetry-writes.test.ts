import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { RunTelemetry } from '../../src/telemetry/run-telemetry.js';
import { TextArchive } from '../../src/telemetry/text-archive.js';

// A failed prompt-archive save or report write was told as "the inference log could not be
// written": the user looked for lost job transitions while a report or the prompts were missing.
describe('telemetry writes that fail at the end of a run', () => {
  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('name the prompt archive and the report files they lost, each once', async () => {
    root = mkdtempSync(join(tmpdir(), 'wavebatch-lost-writes-'));
    const path = join(root, 'state.db');
    await new SqliteStore({ path }).close();
    // A real SQLite refusal of every archived text, and a file where the reports folder goes.
    const db = new Database(path);
    db.exec(`CREATE TRIGGER refuse_texts BEFORE INSERT ON texts
               BEGIN SELECT RAISE(ABORT, 'the disk refused the texts'); END`);
    db.close();
    writeFileSync(join(root, 'reports'), 'not a folder');
    const store = new SqliteStore({ path });
    const archive = new TextArchive(store);
    const warnings: string[] = [];
    const telemetry = new RunTelemetry({
      store,
      archive,
      workload: 'lost-writes',
      dataDir: root,
      now: () => 1_000,
      warn: (message) => warnings.push(message),
    });
    try {
      const runId = await store.startRun('batch');
      telemetry.handle({ type: 'run-started', runId, mode: 'batch', at: 1_000 });
      await archive.rememberPrompt('a'.repeat(64), null, 'Describe the book.', 'book-1');
      telemetry.handle({
        type: 'run-finished',
        runId,
        mode: 'batch',
        outcome: 'finished',
        at: 2_000,
        counts: { blocked: 0, ready: 0, in_flight: 0, done: 1, dead: 0, total: 1 },
        error: null,
      });
      await telemetry.close();

      expect(warnings).toHaveLength(2);
      expect(warnings.join('\n')).not.toContain('inference log could not be written');
      expect(warnings[0]).toContain('the prompt archive could not be saved to the state store');
      expect(warnings[0]).toContain('the disk refused the texts');
      expect(warnings[1]).toContain(
        `the report of run ${runId} could not be written to ${join(root, 'reports', `run-${runId}.md`)}`,
      );
      expect(warnings[1]).toContain(`wavebatch report ${runId}`);
    } finally {
      await store.close();
    }
  });
});
