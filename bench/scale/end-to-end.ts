// One whole run of the scale workload (JSONL source, chains of 20 pages, JSONL output sink) against
// an emulator in another process, so this process's CPU is wavebatch's work alone. Run as a child:
// `node --import tsx bench/scale/end-to-end.ts <records> [chains|flat] [batch|flex] [short|long-outputs|long-text] [commands]`
// (the sizes: see SizeProfile); prints one JSON line of figures.
import { mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { loadConfig } from '../../src/config/index.js';
import { createGeminiClient } from '../../src/gemini/index.js';
import { systemClock, type RunnerClock } from '../../src/clock.js';
import { openWorkloadSession } from '../../src/runner/workload-session.js';
import { limitHeapGrowth } from '../../src/runner/heap-growth.js';
import { timedApi } from '../timed-api.js';
import { ioSince, processIo } from './process-io.js';
import { startEmulatorChild } from './emulator-process.js';
import { writeScaleWorkload, type SizeProfile, type WorkloadLane, type WorkloadShape } from './workload.js';
import { measureCommands, type CommandFigure } from './commands.js';

/** Sleeps up to this long are the run loop's (poll interval, retry backoff); longer ones the lease's. */
const POLL_SLEEP_MAX_MS = 1000;

export interface EndToEndFigures {
  records: number;
  shape: WorkloadShape;
  lane: WorkloadLane;
  sizes: SizeProfile;
  done: number;
  wallMs: number;
  /** Wall time spent in API calls (the emulator works meanwhile) and in poll sleeps. */
  apiMs: number;
  sleepMs: number;
  /** Wall time minus API calls and sleeps: what wavebatch itself took. */
  localMs: number;
  /** CPU time of this process (user + system) over the run. */
  cpuMs: number;
  /** Largest resident set size of the process, bytes. */
  peakRssBytes: number;
  /** Bytes of the committed shards (documents with metadata), and of the model outputs alone. */
  shardBytes: number;
  outputBytes: number;
  /** State store files (database + WAL) at the end, and bytes the run sent to the disk in all. */
  storeBytes: number;
  diskWrittenBytes: number | null;
  writtenBytes: number;
  jobs: number;
  /** A second run-once over the unchanged source and the finished store, open to close. */
  startupMs: number;
  /**
   * A third run-once after the source file was touched (a new modification time, as an edit gives
   * it): the whole source read again and compared with the store, nothing else to do.
   */
  resyncMs: number;
  /** With `commands`: status, log, listings, export and prune on the finished store (see commands.ts). */
  commands?: CommandFigure[];
}

/** Runs the workload of `records` pages to completion and measures it. */
export async function measureEndToEnd(
  records: number,
  shape: WorkloadShape = 'chains',
  lane: WorkloadLane = 'batch',
  sizes: SizeProfile = 'short',
  commands = false,
): Promise<EndToEndFigures> {
  const root = await mkdtemp(join(tmpdir(), 'wb-bench-scale-'));
  const emulator = await startEmulatorChild(join(root, 'emulator'));
  const url = emulator.url;
  try {
    const workload = await writeScaleWorkload(join(root, 'workload'), records, 'jsonl', shape, lane, sizes);
    const config = await loadConfig(workload.configPath, {});
    const api = timedApi(createGeminiClient({ apiKey: 'bench-key', baseUrl: url }));
    let sleepMs = 0;
    const clock: RunnerClock = {
      now: () => systemClock.now(),
      sleep: async (ms, signal) => {
        // The store lease's heartbeat sleeps beside the run: only the loop's own waits count.
        if (ms > POLL_SLEEP_MAX_MS) return systemClock.sleep(ms, signal);
        const started = performance.now();
        try {
          await systemClock.sleep(ms, signal);
        } finally {
          sleepMs += performance.now() - started;
        }
      },
    };
    const ioBefore = processIo();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const session = await openWorkloadSession(
      { ...config, apiKey: 'bench-key', api: { ...config.api, base_url: url } },
      { gemini: api.client, clock },
    );
    let summary;
    try {
      summary = await session.runner.run();
    } finally {
      await session.close();
    }
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const io = ioSince(ioBefore);
    /** One more run-once over the finished store, open to close: how long a start takes. */
    const startOnce = async (): Promise<number> => {
      const began = performance.now();
      const session = await openWorkloadSession(
        { ...config, apiKey: 'bench-key', api: { ...config.api, base_url: url } },
        { gemini: api.client, clock },
      );
      try {
        await session.runner.runOnce();
      } finally {
        await session.close();
      }
      return performance.now() - began;
    };
    // Start-up over the unchanged source and the finished store: open, sync, recover, nothing to do.
    const startupMs = await startOnce();
    // Start-up over a touched source: what a run pays after an edit to one record of it.
    const touched = new Date();
    await utimes(join(root, 'workload', 'pages.jsonl'), touched, touched);
    const resyncMs = await startOnce();
    const apiMs = Object.values(api.totals).reduce((sum, totals) => sum + totals.ms, 0);
    const outputFolder = join(root, 'workload', 'out');
    let shardBytes = 0;
    for (const name of await readdir(outputFolder))
      if (name.endsWith('.jsonl')) shardBytes += (await stat(join(outputFolder, name))).size;
    const stateDir = join(root, 'workload', 'state');
    let storeBytes = 0;
    for (const name of await readdir(stateDir))
      if (name.startsWith('state.db')) storeBytes += (await stat(join(stateDir, name))).size;
    const figures: EndToEndFigures = {
      records,
      shape,
      lane,
      sizes,
      done: summary.counts.done,
      wallMs,
      apiMs,
      sleepMs,
      localMs: wallMs - apiMs - sleepMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      shardBytes,
      // Outputs are the synthetic model's JSON: measured from the shards' lines.
      outputBytes: await outputBytesOf(outputFolder),
      storeBytes,
      diskWrittenBytes: io.toDisk,
      writtenBytes: io.written,
      jobs: summary.jobsSubmitted,
      startupMs,
      resyncMs,
    };
    // After every figure above: the commands' memory and time are not the run's.
    if (commands) figures.commands = await measureCommands(config);
    return figures;
  } finally {
    await emulator.stop();
    if (process.env.BENCH_KEEP) console.error(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

/** Sum of each committed document's `output` as compact JSON. */
async function outputBytesOf(folder: string): Promise<number> {
  let bytes = 0;
  for (const name of (await readdir(folder)).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = createInterface({ input: createReadStream(join(folder, name)) });
    for await (const line of lines) {
      if (line === '') continue;
      bytes += Buffer.byteLength(JSON.stringify((JSON.parse(line) as { output: unknown }).output));
    }
  }
  return bytes;
}

if (process.argv[1] === import.meta.filename) {
  // As the wavebatch command does at start (WAVEBATCH_HEAP_GROWING_PERCENT=0 measures V8's own choice).
  limitHeapGrowth();
  const records = Number(process.argv[2] ?? 10_000);
  const shape = process.argv[3] === 'flat' ? 'flat' : 'chains';
  const lane = process.argv[4] === 'flex' ? 'flex' : 'batch';
  const sizes = (['long-outputs', 'long-text'] as const).find((name) => name === process.argv[5]) ?? 'short';
  const commands = process.argv[6] === 'commands';
  process.stdout.write(`${JSON.stringify(await measureEndToEnd(records, shape, lane, sizes, commands))}\n`);
}
