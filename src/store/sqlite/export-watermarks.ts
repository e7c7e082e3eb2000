import type Database from 'better-sqlite3';
import type { WatermarkOf } from '../export-watermarks.js';
import { writeTransaction } from './database.js';

/** Where a new watermark starts (see ExportWatermarks.exportWatermark). */
function startOf(db: Database.Database, of: WatermarkOf): number {
  if (of === 'runs')
    return (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM runs').get() as { id: number }).id;
  const last = (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number }).id;
  if (of === 'events') return last;
  // Just before the first event of the runs not delivered yet: their job ends are all still to come.
  const first = db.prepare('SELECT MIN(id) AS id FROM events WHERE run_id > ?').get(of.jobEndsAfterRun) as {
    id: number | null;
  };
  return first.id === null ? last : first.id - 1;
}

/** The exporter's watermark, started where `of` says if it has none yet. */
export function exportWatermark(db: Database.Database, exporter: string, of: WatermarkOf): number {
  return writeTransaction(db, () => {
    const row = db.prepare('SELECT event_id FROM export_watermarks WHERE exporter = ?').get(exporter) as
      { event_id: number } | undefined;
    if (row) return row.event_id;
    const start = startOf(db, of);
    db.prepare('INSERT INTO export_watermarks (exporter, event_id) VALUES (?, ?)').run(exporter, start);
    return start;
  })();
}

/** Moves the watermark forward, never back (a late, smaller advance is ignored). */
export function advanceExportWatermark(db: Database.Database, exporter: string, eventId: number): void {
  db.prepare(
    `INSERT INTO export_watermarks (exporter, event_id) VALUES (?, ?)
       ON CONFLICT (exporter) DO UPDATE SET event_id = MAX(event_id, excluded.event_id)`,
  ).run(exporter, eventId);
}
