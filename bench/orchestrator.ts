// The whole batch loop on an in-process emulator: N chained text pages (books × pages) run to
// completion with a high time scale and short turnaround, so what is measured is wavebatch's own
// work (sync, packing, uploads, polling, parsing, validation, atomic writes), not waiting for Gemini.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { startEmulator } from '../src/emulator/index.js';
import { createGeminiClient } from '../src/gemini/index.js';
import { systemClock, type RunnerClock } from '../src/runner/clock.js';
import type { RunnerEvent } from '../src/runner/events.js';
import { openWorkloadSession } from '../src/runner/workload-session.js';
import { writeCatalogWorkload } from './catalog-workload.js';
import {
  megabytes,
  microsecondsEach,
  milliseconds,
  perSecond,
  printFigure,
  sizeFromEnv,
  times,
  machineConditions,
} from './figures.js';
import { MemoryPeak } from './memory-peak.js';
import { timeMethods } from './method-timer.js';
import { timedApi, type CallKind, type CallTotals } from './timed-api.js';

const SEED = 3;
const PAGES_PER_BOOK = 20;
/** Emulated ms per real ms: a 2–10 emulated-second turnaround takes a few real ms (then one 25 ms emulator tick). */
const TIME_SCALE = 1000;

/**
 * Runs the benchmark. BENCH_RECORDS scales the workload (default 5,000 = 250 books × 20 pages);
 * BENCH_JOB_SOURCE=inline sends jobs inline instead of as uploaded JSONL files (the default).
 */
export async function benchOrchestrator(): Promise<void> {
  const records = sizeFromEnv('BENCH_RECORDS', 5_000);
  const books = Math.max(1, Math.round(records / PAGES_PER_BOOK));
  const inline = process.env.BENCH_JOB_SOURCE === 'inline';
  const root = await mkdtemp(join(tmpdir(), 'wb-bench-orchestrator-'));
  const emulator = await startEmulator({
    seed: SEED,
    timeScale: TIME_SCALE,
    turnaroundMs: { min: 2_000, max: 10_000 },
    storageDir: join(root, 'emulator'),
  });
  try {
    const configPath = await writeCatalogWorkload(root, {
      books,
      pages: PAGES_PER_BOOK,
      seed: SEED,
      execution: {
        max_concurrent_jobs: 10,
        max_requests_per_job: 100,
        inline_max_bytes: inline ? 10_000_000 : 0,
        poll_interval: '10ms',
        max_retries: 2,
      },
    });
    const config = await loadConfig(configPath, {});
    const api = timedApi(createGeminiClient({ apiKey: 'bench-key', baseUrl: emulator.url }));
    let sleptMs = 0;
    const clock: RunnerClock = {
      now: () => systemClock.now(),
      sleep: async (ms, signal) => {
        const started = performance.now();
        await systemClock.sleep(ms, signal);
        sleptMs += performance.now() - started;
      },
    };
    const events: Array<{ at: number; event: RunnerEvent }> = [];
    const memory = new MemoryPeak();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const session = await openWorkloadSession(
      { ...config, apiKey: 'bench-key', api: { ...config.api, base_url: emulator.url } },
      {
        gemini: api.client,
        clock,
        onEvent: (event) => events.push({ at: performance.now() - started, event }),
      },
    );
    const local = new Map<string, CallTotals>();
    timeMethods(session.store, 'store', local);
    timeMethods(session.outputs, 'outputs', local);
    const summary = await session.runner.run();
    await session.close();
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const growth = memory.stop();

    const total = books * PAGES_PER_BOOK;
    const syncEvent = events.find(({ event }) => event.type === 'sync');
    const syncMs = syncEvent?.at ?? 0;
    const submitted = events.filter(({ event }) => event.type === 'job-submitted').length;
    const passes = events.filter(({ event }) => event.type === 'progress').length;
    const failures = events.filter(({ event }) => event.type === 'record-failed').length;
    const apiMs = (kinds: CallKind[]) => kinds.reduce((sum, kind) => sum + api.totals[kind].ms, 0);
    const submitMs = apiMs(['upload', 'create']);
    const serviceMs = apiMs(['poll', 'download']);
    const otherApiMs = apiMs(['countTokens', 'other']);
    const localMs = wallMs - syncMs - submitMs - serviceMs - otherApiMs - sleptMs;
    const apiBytes = api.totals.upload.bytes + api.totals.download.bytes;
    const share = (ms: number) => `${milliseconds(ms)} (${((ms / wallMs) * 100).toFixed(0)}%)`;

    console.log(
      `orchestrator: ${total.toLocaleString('en-US')} records = ${books} chains × ${PAGES_PER_BOOK} pages, ${inline ? 'inline' : 'uploaded-file'} jobs, emulator timeScale ${TIME_SCALE} (seed ${SEED})`,
    );
    printFigure('machine', machineConditions());
    printFigure(
      'outcome',
      `${summary.counts.done} done, ${summary.counts.dead} dead, ${failures} failed attempts, ${emulator.ledger.entries().length} requests billed`,
    );
    printFigure(
      'wall time',
      `${milliseconds(wallMs)}  ${perSecond(total, wallMs, 'records')}  ${microsecondsEach(wallMs, total)}/record`,
    );
    printFigure(
      'jobs',
      `${summary.jobsSubmitted} submitted (${submitted} events) in ${passes} passes, ${(total / Math.max(1, summary.jobsSubmitted)).toFixed(0)} records/job`,
    );
    printFigure('sync (source → store)', share(syncMs));
    printFigure(
      'submit API (upload + create)',
      `${share(submitMs)}  ${api.totals.upload.calls} uploads, ${api.totals.create.calls} creates`,
    );
    printFigure(
      'service API (poll + download)',
      `${share(serviceMs)}  ${api.totals.poll.calls} polls, ${api.totals.download.calls} downloads`,
    );
    printFigure('other API (countTokens, files)', share(otherApiMs));
    printFigure('poll sleeps', share(sleptMs));
    printFigure('wall vs time in API calls', times(wallMs, submitMs + serviceMs + otherApiMs));
    printFigure(
      'local work (store, pack, write)',
      `${share(localMs)}  ${microsecondsEach(localMs, total)}/record`,
    );
    for (const [name, entry] of [...local.entries()]
      .filter(([, e]) => e.calls > 0)
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 6)) {
      printFigure(
        `  ${name}`,
        `${share(entry.ms)}  ${entry.calls} calls, ${microsecondsEach(entry.ms, entry.calls)}/call`,
      );
    }
    printFigure(
      'CPU (runner + emulator)',
      `${milliseconds((cpu.user + cpu.system) / 1000)}  ${microsecondsEach((cpu.user + cpu.system) / 1000, total)}/record  ${times((cpu.user + cpu.system) / 1000, wallMs)} of wall`,
    );
    printFigure(
      'bytes through the API',
      `${megabytes(apiBytes)} (${megabytes(api.totals.upload.bytes)} up, ${megabytes(api.totals.download.bytes)} down)`,
    );
    printFigure(
      'peak RSS growth',
      `+${megabytes(growth.rss)}  ${(growth.rss / total / 1000).toFixed(1)} kB/record${apiBytes > 0 ? `  ${times(growth.rss, apiBytes)} API bytes` : ''}`,
    );
    printFigure(
      'peak heap growth',
      `+${megabytes(growth.heap)}  retained after GC +${megabytes(growth.retainedHeap)}`,
    );
  } finally {
    await emulator.close();
    await rm(root, { recursive: true, force: true });
  }
}
