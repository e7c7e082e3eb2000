// What a person does with a finished store of the scale workload, timed through the service layer
// the CLI and the HTTP API share (no process start-up): a status, a status with stale outputs, the
// report of the run that did the work (written after every run too), the whole inference log with its outputs (`log --json`), the chains listed in order (`export -f
// chains`, `run --only`), the outputs exported as JSONL, and a prune of every event. Each beside a
// bare loop over the same data in the same run: one pass over the table or the shard files, reading
// and writing what the command reads and writes, with none of its checks or joins. Before this
// benchmark, status --stale paged through the done records in time growing with the store per page
// (445 s at 1M) and prune never finished at 1M.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { LoadedConfig } from '../../src/config/index.js';
import { WorkloadService } from '../../src/service/index.js';
import { exportOutputsParquet } from '../../src/outputs/export-parquet.js';
import type { OutputDocument } from '../../src/outputs/index.js';

/** One command's time beside its bare loop's, over `items` (records, events or outputs). */
export interface CommandFigure {
  name: string;
  items: number;
  ms: number;
  ceilingMs: number;
  ceiling: string;
}

/** Times the commands on the finished workload whose store and outputs `config` names. */
export async function measureCommands(config: LoadedConfig): Promise<CommandFigure[]> {
  const outputFolder = config.outputs;
  // Read-only but for the prune's bare loop, which rolls its deletion back.
  const bare = new Database(join(config.data_dir, 'state.db'));
  const service = WorkloadService.open(config);
  const figures: CommandFigure[] = [];
  try {
    const records = bare.prepare('SELECT COUNT(*) FROM records').pluck().get() as number;
    const events = bare.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;

    figures.push({
      name: 'status',
      items: records,
      ms: await timed(() => service.status()),
      ceilingMs: await timed(async () => {
        bare
          .prepare(
            'SELECT status, COUNT(*), SUM(input_tokens), SUM(output_tokens) FROM records GROUP BY status',
          )
          .all();
      }),
      ceiling: 'one GROUP BY pass over the records',
    });
    figures.push({
      name: 'status --stale',
      items: records,
      ms: await timed(() => service.status({ stale: true })),
      ceilingMs: await timed(async () => {
        for (const row of bare.prepare('SELECT id, output_shard FROM records').raw().iterate()) void row;
        await eachLine(outputFolder, (line) => void JSON.parse(line));
      }),
      ceiling: 'a pass over the records + every shard line parsed',
    });
    // The run that did the work: the one with the most attempts (later runs found nothing to do).
    const busiestRun = bare
      .prepare(
        "SELECT run_id FROM events WHERE kind = 'attempt' GROUP BY run_id ORDER BY COUNT(*) DESC LIMIT 1",
      )
      .pluck()
      .get() as number;
    const runAttempts = bare
      .prepare("SELECT COUNT(*) FROM events WHERE kind = 'attempt' AND run_id = ?")
      .pluck()
      .get(busiestRun) as number;
    figures.push({
      name: "report (the run's, as after every run)",
      items: runAttempts,
      ms: await timed(async () => {
        if ((await service.report(busiestRun)) === null) throw new Error(`run ${busiestRun} has no report`);
      }),
      ceilingMs: await timed(async () => {
        bare
          .prepare(
            `SELECT model, lane, prompt_name, prompt_version, type, cause, COUNT(*), SUM(input_tokens),
                    SUM(output_tokens), SUM(cost_usd) FROM events WHERE run_id = ? GROUP BY 1, 2, 3, 4, 5, 6`,
          )
          .all(busiestRun);
      }),
      ceiling: "one GROUP BY pass over the run's events",
    });
    figures.push({
      name: 'log --json (every event, outputs read back)',
      items: events,
      ms: await timed(async () => {
        for (let afterId: number | undefined; ;) {
          const page = await service.events({ ...(afterId === undefined ? {} : { afterId }), limit: 1000 });
          for (const event of page) void JSON.stringify(event);
          if (page.length < 1000) break;
          afterId = page.at(-1)?.id;
        }
      }),
      ceilingMs: await timed(async () => {
        for (const row of bare.prepare('SELECT * FROM events').iterate()) void JSON.stringify(row);
        await eachLine(outputFolder, (line) => void JSON.parse(line));
      }),
      ceiling: 'every event row stringified + every shard line parsed',
    });
    figures.push({
      name: 'chains in order (export -f chains, --only)',
      items: records,
      ms: await timed(async () => {
        for await (const chain of service.chains()) void chain;
      }),
      ceilingMs: await timed(async () => {
        for (const row of bare.prepare('SELECT * FROM records ORDER BY chain_id, position').iterate())
          void row;
      }),
      ceiling: 'every record row read in chain order',
    });
    figures.push({
      name: 'export --format jsonl',
      items: records,
      ms: await timed(() => service.exportOutputs('jsonl', nowhere())),
      ceilingMs: await timed(async () => {
        const out = nowhere();
        await eachLine(outputFolder, (line) => void out.write(`${JSON.stringify(JSON.parse(line))}\n`));
      }),
      ceiling: 'every shard line parsed and written again',
    });
    figures.push({
      name: 'export --format parquet',
      items: records,
      ms: await timed(() => service.exportOutputs('parquet', nowhere())),
      ceilingMs: await timed(() =>
        exportOutputsParquet({ documents: () => shardDocuments(outputFolder) }, nowhere()),
      ),
      ceiling: 'every shard line parsed and encoded by the same Parquet writer',
    });
    // Last: it empties the inference log. Its bare loop, first: the same rows deleted and rolled back.
    const cutOff = new Date(Date.now() + 60_000);
    const ceilingMs = await timed(async () => {
      bare.exec('BEGIN IMMEDIATE');
      try {
        bare.prepare('DELETE FROM events WHERE at < ?').run(cutOff.toISOString());
      } finally {
        bare.exec('ROLLBACK');
      }
    });
    figures.push({
      name: 'prune (every event)',
      items: events,
      ms: await timed(() => service.prune(cutOff)),
      ceilingMs,
      ceiling: "the events' DELETE alone (rolled back)",
    });
  } finally {
    await service.close();
    bare.close();
  }
  return figures;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Every document of the output folder's shards, in shard order, parsed from its line. */
async function* shardDocuments(folder: string): AsyncIterable<OutputDocument> {
  for (const name of (await readdir(folder)).filter((n) => n.endsWith('.jsonl')).sort()) {
    for await (const line of createInterface({ input: createReadStream(join(folder, name)) }))
      if (line !== '') yield JSON.parse(line) as OutputDocument;
  }
}

/** Every line of the output folder's shards, in shard order. */
async function eachLine(folder: string, visit: (line: string) => void): Promise<void> {
  for (const name of (await readdir(folder)).filter((n) => n.endsWith('.jsonl')).sort()) {
    for await (const line of createInterface({ input: createReadStream(join(folder, name)) }))
      if (line !== '') visit(line);
  }
}

/** A stream that takes everything and keeps nothing, as fast as it is written to. */
function nowhere(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}
