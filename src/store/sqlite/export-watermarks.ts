import type Database from 'better-sqlite3';
import { writeTransaction } from './database.js';

/**
 * The exporter's watermark, started at the last event logged (or, for an exporter of runs, the last
 * run started; 0 when none) if it has none yet.
 */
export function exportWatermark(db: Database.Database, exporter: string, of: 'events' | 'runs'): number {
  return writeTransaction(db, () => {
    db.prepare(
      `INSERT INTO export_watermarks (exporter, event_id)
         SELECT ?, COALESCE((SELECT MAX(id) FROM ${of === 'runs' ? 'runs' : 'events'}), 0)
       ON CONFLICT (exporter) DO NOTHING`,
    ).run(exporter);
    const row = db.prepare('SELECT event_id FROM export_watermarks WHERE exporter = ?').get(exporter) as {
      event_id: number;
    };
    return row.event_id;
  })();
}

/** Moves the watermark forward, never back (a late, smaller advance is ignored). */
export function advanceExportWatermark(db: Database.Database, exporter: string, eventId: number): void {
  db.prepare(
    `INSERT INTO export_watermarks (exporter, event_id) VALUES (?, ?)
       ON CONFLICT (exporter) DO UPDATE SET event_id = MAX(event_id, excluded.event_id)`,
  ).run(exporter, eventId);
}
