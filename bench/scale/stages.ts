// The run's stages one at a time on the scale workload, each beside a bare loop over the same data
// in the same process (its ceiling): ingest, request building + JSONL writing, upload, results
// parsing, applying results (store updates + JSONL sink). Stages run in data order: the outputs
// applied in stage 4 are the contexts stage 5 builds requests with.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/index.js';
import { BATCH_INPUT_MIME_TYPE, createGeminiClient } from '../../src/gemini/index.js';
import { JsonlSink } from '../../src/outputs/index.js';
import { loadPrompt } from '../../src/prompts/index.js';
import {
  classifyResult,
  createValidator,
  jsonSchemaForModel,
  readResultLines,
} from '../../src/results/index.js';
import { RecordLifecycle } from '../../src/lifecycle/index.js';
import { processSucceededJob, type ResultProcessingDeps } from '../../src/lanes/batch/result-processing.js';
import { RecordRequestBuilder } from '../../src/runner/record-request.js';
import { runnerSettings } from '../../src/runner/workload-session.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { AttemptEventFactory } from '../../src/telemetry/attempt-event.js';
import { openSource } from '../../src/workload/index.js';
import type { BatchApi } from '../../src/lanes/batch/batch-api.js';
import { startEmulatorChild } from './emulator-process.js';
import { rawResumableUpload } from './raw-upload.js';
import { writeScaleWorkload } from './workload.js';

/** Records per job while applying results (the scale workload's max_requests_per_job). */
const JOB_SIZE = 5000;
/** Rows per transaction in the bare loops, as the store's sync writes them. */
const BARE_BATCH = 1000;
/** Outputs per fsync in the bare apply loop, as the JSONL sink groups them. */
const BARE_GROUP = 4096;

/** A stage's time beside its ceiling's, both over the same records. */
export interface StageFigure {
  name: string;
  records: number;
  ms: number;
  ceilingMs: number;
  /** CPU time of the stage and of its ceiling. */
  cpuMs: number;
  ceilingCpuMs: number;
  ceiling: string;
}

/** Runs every stage over `records` pages and returns their figures, in pipeline order. */
export async function measureStages(records: number): Promise<StageFigure[]> {
  const root = await mkdtemp(join(tmpdir(), 'wb-bench-stages-'));
  const emulator = await startEmulatorChild(join(root, 'emulator'));
  try {
    const workload = await writeScaleWorkload(join(root, 'workload'), records);
    const config = await loadConfig(workload.configPath, {});
    const store = new SqliteStore({ path: join(root, 'state.db') });
    const bare = openBareDatabase(join(root, 'bare.db'));
    const sink = new JsonlSink({ root: join(root, 'out'), index: store });
    const figures: StageFigure[] = [];
    try {
      // 1. Ingest: the source streamed into the store, chains linked, readiness set.
      let mark = cpuTotal;
      const ingest = await timed(async () => {
        // As the runner does (workload-sync.ts): chains linked, and readiness refreshed, only when
        // the sync did not leave them so.
        const { linked } = await store.syncRecords(() => openSource(config));
        if (!linked) {
          await store.linkChains();
          await store.refreshReadiness();
        }
      });
      let cpu = cpuSince(mark);
      const ingestCeiling = await timed(() => bareIngest(bare, join(root, 'workload', 'pages.jsonl')));
      figures.push(
        stage('ingest', records, ingest, ingestCeiling, 'readline + JSON.parse + one INSERT each', cpu()),
      );

      // 2. Results parsing: a results file of every record through readResultLines + classify.
      const resultsPath = join(root, 'results.jsonl');
      await writeResults(resultsPath, store, records);
      const validator = createValidator(config.model.response_schema);
      mark = cpuTotal;
      const parse = await timed(async () => {
        for await (const line of readResultLines(resultsPath))
          classifyResult(line.malformed ? { malformed: true, raw: line.raw } : line, validator);
      });
      cpu = cpuSince(mark);
      const parseCeiling = await timed(() => bareParse(resultsPath));
      figures.push(stage('results parsing', records, parse, parseCeiling, 'readline + JSON.parse', cpu()));

      // 3. Applying results: valid outputs to the JSONL sink a group at a time, completions in the store.
      figures.push(await applyingStage({ store, sink, bare, config, validator, records, root }));

      // 4. Request building + JSONL writing: every record's request, its predecessor's output as context.
      const inputPath = join(root, 'input.jsonl');
      figures.push(await buildingStage({ store, sink, bare, config, root }, inputPath));

      // 5. Upload: that JSONL through the SDK's resumable upload to the emulator (in another process),
      // beside the same bytes sent over the same protocol by node:http alone. Both first send a
      // one-line file, untimed: a run pays the HTTP client's first-use cost once, not per job file.
      const api = createGeminiClient({ apiKey: 'bench-key', baseUrl: emulator.url });
      const warmUpPath = join(root, 'warm-up.jsonl');
      await writeFile(warmUpPath, '{"key":"warm-up","request":{"contents":[]}}\n');
      await api.uploadJsonl(warmUpPath, 'bench-warm-up');
      await rawResumableUpload(emulator.url, warmUpPath, BATCH_INPUT_MIME_TYPE);
      mark = cpuTotal;
      const upload = await timed(async () => {
        await api.uploadJsonl(inputPath, 'bench-input');
      });
      cpu = cpuSince(mark);
      const uploadCeiling = await timed(() =>
        rawResumableUpload(emulator.url, inputPath, BATCH_INPUT_MIME_TYPE),
      );
      const megabytes = ((await stat(inputPath)).size / 1e6).toFixed(1);
      figures.push(
        stage(
          'upload',
          records,
          upload,
          uploadCeiling,
          `the same ${megabytes} MB over the same resumable protocol by node:http, no SDK`,
          cpu(),
        ),
      );
    } finally {
      await sink.close();
      await store.close();
      bare.close();
    }
    return figures;
  } finally {
    await emulator.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** What the applying stage works on: the ingested store, its sink, and the bare loop's database. */
interface ApplyingInputs {
  store: SqliteStore;
  sink: JsonlSink;
  bare: Database.Database;
  config: Awaited<ReturnType<typeof loadConfig>>;
  validator: ReturnType<typeof createValidator>;
  records: number;
  root: string;
}

/**
 * Applies a valid result to every record of the ingested store (outputs to the JSONL sink a group at
 * a time, completions in the store), chains position by position in jobs as the runner does, then
 * its bare loop.
 */
async function applyingStage(inputs: ApplyingInputs): Promise<StageFigure> {
  const { bare, records, root } = inputs;
  const mark = cpuTotal;
  const applyMs = await applyEveryResult(inputs);
  const cpu = cpuSince(mark);
  const applyCeiling = await timed(() => bareApply(bare, join(root, 'bare-out.jsonl'), records));
  return stage(
    'applying results',
    records,
    applyMs,
    applyCeiling,
    'JSON.stringify + one write and fsync per 4096 + one UPDATE each',
    cpu(),
  );
}

/**
 * Applies a valid result to every record of the ingested store, chains position by position in
 * jobs as the runner does; returns the wall ms inside result processing (CPU in `cpuTotal`).
 */
async function applyEveryResult(inputs: ApplyingInputs): Promise<number> {
  const { store, sink, config, validator, records } = inputs;
  await sink.recover();
  const deps: ResultProcessingDeps = {
    store,
    api: {} as BatchApi,
    lifecycle: new RecordLifecycle({
      store,
      outputs: sink,
      emit: () => undefined,
      maxRetries: runnerSettings(config).maxRetries,
      prompt: runnerSettings(config).prompt,
    }),
    validator,
    settings: runnerSettings(config),
    emit: () => undefined,
    now: () => Date.now(),
    observeUsage: () => undefined,
    attempts: new AttemptEventFactory({ now: () => Date.now() }),
    runId: null,
  };
  let applyMs = 0;
  for (let position = 0; ; position++) {
    const ready = await store.listReady(records);
    if (ready.length === 0) break;
    for (let from = 0; from < ready.length; from += JOB_SIZE) {
      const members = ready.slice(from, from + JOB_SIZE).map((record) => ({
        recordId: record.id,
        attempt: 0,
        promptHash: 'h',
        estimatedTokens: 100,
      }));
      const id = `bench-${position}-${from}`;
      await store.createJobIntent({ id, model: config.model.name, kind: 'inline', members });
      const job = await store.getJob(id);
      if (!job) throw new Error(`job ${id} was not stored`);
      const inlinedResponses = members.map((member) => ({
        key: member.recordId,
        response: modelResponse(member.recordId),
      }));
      applyMs += await timed(() =>
        processSucceededJob(deps, job, { name: `batches/${id}`, state: 'succeeded', inlinedResponses }),
      );
    }
  }
  return applyMs;
}

/** What the building stage works on: a store whose records are done, their outputs in the sink. */
type BuildingInputs = Pick<ApplyingInputs, 'store' | 'sink' | 'bare' | 'config' | 'root'>;

/**
 * Builds every record's request with its predecessor's output as context and writes the lines to
 * `inputPath`, pages of 1,000 as a submission round reads them, then its bare loop.
 */
async function buildingStage(inputs: BuildingInputs, inputPath: string): Promise<StageFigure> {
  const { store, sink, bare, config, root } = inputs;
  const builder = new RecordRequestBuilder({
    prompt: await loadPrompt(config.prompt.dir, config.prompt.name, config.prompt.version),
    outputs: sink,
    extractContext: (output) => (output as { carry_over?: unknown }).carry_over ?? null,
    generationConfig: config.model.generation_config,
    responseJsonSchema: jsonSchemaForModel(config.model.response_schema),
    tokenScale: () => 1,
  });
  let records = 0;
  const mark = cpuTotal;
  const build = await timed(async () => {
    const out = createWriteStream(inputPath);
    for (let after: string | undefined; ;) {
      const page = await store.listRecords({ limit: 1000, ...(after ? { afterId: after } : {}) });
      // As a submission round does: the page's predecessor lines read together, then each request built.
      builder.beginRound();
      await builder.prefetchContexts(page);
      for (const record of page) {
        const built = await builder.build(record);
        if (!out.write(`${built.line}\n`)) await once(out, 'drain');
      }
      builder.endRound();
      records += page.length;
      after = page.at(-1)?.id;
      if (page.length < 1000) break;
    }
    out.end();
    await once(out, 'finish');
  });
  const cpu = cpuSince(mark);
  const buildCeiling = await timed(() =>
    bareBuild(bare, join(root, 'bare-input.jsonl'), jsonSchemaForModel(config.model.response_schema)),
  );
  return stage(
    'request building + JSONL writing',
    records,
    build,
    buildCeiling,
    'SELECT in pages + string template + JSON.stringify + write',
    cpu(),
  );
}

/**
 * The applying stage alone (the source ingested first, untimed; no emulator): what
 * `node --import tsx bench/scale/stages.ts applying <records>` prints, to compare one change A/B.
 */
export async function measureApplying(records: number): Promise<StageFigure> {
  return withIngestedStore('applying', records, (inputs) => applyingStage(inputs));
}

/**
 * The building stage alone, `passes` times over the same finished store (the source ingested and
 * every result applied first, untimed; no emulator): what `node --import tsx bench/scale/stages.ts
 * building <records> [passes]` prints, a pass a line. Later passes run on warm code, as a long run's
 * rounds do; the input file of the last pass is kept at `keepInput` when given (to compare its bytes).
 */
export async function measureBuilding(
  records: number,
  passes: number,
  keepInput?: string,
): Promise<StageFigure[]> {
  return withIngestedStore('building', records, async (inputs) => {
    await applyEveryResult(inputs);
    const figures: StageFigure[] = [];
    for (let pass = 0; pass < passes; pass++) {
      const inputPath = keepInput ?? join(inputs.root, 'input.jsonl');
      figures.push(await buildingStage(inputs, inputPath));
    }
    return figures;
  });
}

/** Runs `work` on a fresh workload of `records` pages ingested into a store and the bare database, then removes it all. */
async function withIngestedStore<T>(
  name: string,
  records: number,
  work: (inputs: ApplyingInputs) => Promise<T>,
): Promise<T> {
  const root = await mkdtemp(join(tmpdir(), `wb-bench-${name}-`));
  try {
    const workload = await writeScaleWorkload(join(root, 'workload'), records);
    const config = await loadConfig(workload.configPath, {});
    const store = new SqliteStore({ path: join(root, 'state.db') });
    const bare = openBareDatabase(join(root, 'bare.db'));
    const sink = new JsonlSink({ root: join(root, 'out'), index: store });
    try {
      const { linked } = await store.syncRecords(() => openSource(config));
      if (!linked) {
        await store.linkChains();
        await store.refreshReadiness();
      }
      await bareIngest(bare, join(root, 'workload', 'pages.jsonl'));
      const validator = createValidator(config.model.response_schema);
      return await work({ store, sink, bare, config, validator, records, root });
    } finally {
      await sink.close();
      await store.close();
      bare.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function stage(
  name: string,
  records: number,
  ms: number,
  ceilingMs: number,
  ceiling: string,
  cpu: { stage: number; ceiling: number },
): StageFigure {
  return { name, records, ms, ceilingMs, cpuMs: cpu.stage, ceilingCpuMs: cpu.ceiling, ceiling };
}

/**
 * CPU ms since `mark` (the stage's), then a reader that, once the ceiling has run, returns both:
 * the stage's and the ceiling's CPU time.
 */
function cpuSince(mark: number): () => { stage: number; ceiling: number } {
  const stageCpu = cpuTotal - mark;
  const ceilingMark = cpuTotal;
  return () => ({ stage: stageCpu, ceiling: cpuTotal - ceilingMark });
}

/** CPU ms of this process inside `timed` calls: steadier than wall time on a busy machine. */
let cpuTotal = 0;

/** Wall ms of `work`; its CPU ms are added to `cpuTotal` (read per stage by `stage`). */
async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  cpuTotal += (used.user + used.system) / 1000;
  return performance.now() - started;
}

/** The synthetic model's answer to one page: a valid output and its usage. */
function modelResponse(recordId: string): object {
  const text = JSON.stringify({ courses: [`Latin ${recordId.length}01`], carry_over: `after ${recordId}` });
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 60, candidatesTokenCount: 20, totalTokenCount: 80 },
  };
}

/** A results file answering every record of the store, as the Batch API writes one. */
async function writeResults(path: string, store: SqliteStore, records: number): Promise<void> {
  const out = createWriteStream(path);
  for (const record of await store.listRecords({ limit: records })) {
    const line = `${JSON.stringify({ key: record.id, response: modelResponse(record.id) })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function openBareDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE records (id TEXT PRIMARY KEY, chain_id TEXT, vars_json TEXT, status TEXT, output TEXT)',
  );
  return db;
}

async function bareIngest(db: Database.Database, sourcePath: string): Promise<void> {
  const insert = db.prepare(
    `INSERT INTO records (id, chain_id, vars_json, status) VALUES (?, ?, ?, 'ready')`,
  );
  const write = db.transaction((rows: Array<Record<string, unknown>>) => {
    for (const row of rows) insert.run(row.id, row.book, JSON.stringify(row));
  });
  let rows: Array<Record<string, unknown>> = [];
  for await (const line of createInterface({ input: createReadStream(sourcePath), crlfDelay: Infinity })) {
    rows.push(JSON.parse(line) as Record<string, unknown>);
    if (rows.length >= BARE_BATCH) {
      write(rows);
      rows = [];
    }
  }
  write(rows);
}

async function bareParse(path: string): Promise<void> {
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity }))
    JSON.parse(line);
}

async function bareApply(db: Database.Database, path: string, records: number): Promise<void> {
  const ids = db.prepare('SELECT id FROM records').pluck().all() as string[];
  const update = db.prepare(`UPDATE records SET status = 'done', output = ? WHERE id = ?`);
  const out = await import('node:fs/promises').then((fs) => fs.open(path, 'w'));
  try {
    for (let from = 0; from < Math.min(records, ids.length); from += BARE_GROUP) {
      const group = ids.slice(from, from + BARE_GROUP);
      const lines = group.map((id) => JSON.stringify({ id, output: { carry_over: `after ${id}` } }));
      await out.write(`${lines.join('\n')}\n`);
      await out.datasync();
      db.transaction(() => {
        group.forEach((id, index) => update.run(lines[index], id));
      })();
    }
  } finally {
    await out.close();
  }
}

async function bareBuild(db: Database.Database, path: string, schema: unknown): Promise<void> {
  const page = db.prepare('SELECT id, vars_json FROM records WHERE id > ? ORDER BY id LIMIT 1000');
  const out = createWriteStream(path);
  for (let after = ''; ;) {
    const rows = page.all(after) as Array<{ id: string; vars_json: string }>;
    for (const row of rows) {
      const vars = JSON.parse(row.vars_json) as { page: number; book: string; text: string };
      const text = `List the courses on page ${vars.page} of ${vars.book}: ${vars.text}\nThe previous page ended with: after ${row.id}\n`;
      const line = JSON.stringify({
        key: row.id,
        request: {
          contents: [{ role: 'user', parts: [{ text }] }],
          generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
        },
      });
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    if (rows.length < 1000) break;
    after = rows.at(-1)?.id ?? '';
  }
  out.end();
  await once(out, 'finish');
}

/** A stage over several runs: the median of each time, and every run's wall-time ratio. */
export interface RepeatedStageFigure extends StageFigure {
  /** Wall time / ceiling of each run, in run order. */
  ratios: number[];
}

/**
 * Runs every stage `repeats` times, each run on fresh data (a stage changes the store the next one
 * reads), and keeps per stage the median of its time, its ceiling's and both CPU times. A stage runs
 * once per run, so one run's ratio moves by ±30% with the machine; the median of three does less.
 */
export async function measureStagesRepeated(
  records: number,
  repeats: number,
): Promise<RepeatedStageFigure[]> {
  const runs: StageFigure[][] = [];
  for (let run = 0; run < repeats; run++) runs.push(await measureStages(records));
  const first = runs[0] ?? [];
  return first.map((figure, index) => {
    const same = runs.map((run) => run[index] as StageFigure);
    return {
      ...figure,
      ms: median(same.map((s) => s.ms)),
      ceilingMs: median(same.map((s) => s.ceilingMs)),
      cpuMs: median(same.map((s) => s.cpuMs)),
      ceilingCpuMs: median(same.map((s) => s.ceilingCpuMs)),
      ratios: same.map((s) => s.ms / s.ceilingMs),
    };
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

if (process.argv[1] === import.meta.filename && process.argv[2] === 'applying') {
  const figure = await measureApplying(Number(process.argv[3] ?? 20_000));
  process.stdout.write(`${JSON.stringify({ ...figure, ratio: figure.ms / figure.ceilingMs })}\n`);
}

if (process.argv[1] === import.meta.filename && process.argv[2] === 'building') {
  const passes = Number(process.argv[4] ?? 1);
  for (const figure of await measureBuilding(Number(process.argv[3] ?? 20_000), passes, process.argv[5]))
    process.stdout.write(`${JSON.stringify({ ...figure, ratio: figure.ms / figure.ceilingMs })}\n`);
}
